// The history panel: the song's revisions (use one as an edit, draw one as the reference), the
// review comments (with pins on the waveform), and the difference between two revisions.
import { api } from '../api.js'
import { $, cfg, esc, banner } from './page.js'
import * as P from './partition.js'
import { state, edit } from './state.js'
import { fmtTime as fmt } from './timeaxis.js'
import { fillReferenceChoices, setReference } from './reference.js'
import { renderSegments } from './segments.js'
import { ws } from './waveform.js'

let historySeq = 0
export async function loadHistory () {
  // Saves, submits and the history key can each start a refresh: only the latest one renders.
  const seq = ++historySeq
  let page
  try { page = await api(cfg.api.revisions) } catch { return }
  if (seq !== historySeq) return
  const ticked = new Set([...document.querySelectorAll('#history-rows .pick:checked')].map((p) => +p.value))
  state.revisions = page.results
  state.comments = page.comments
  const rows = page.results.map((v) => `<tr data-id="${v.id}"${v.id === page.current ? ' class="current"' : ''}>
    <td><input type="checkbox" class="pick" value="${v.id}" aria-label="compare revision ${v.number}"></td>
    <td>${v.number}</td><td><span class="badge ${esc(v.state)}">${esc(v.state)}</span></td><td>${esc(v.origin)}</td>
    <td>${esc(v.segments_by || v.author || '–')}${v.reviewed_by ? ` <span class="muted">(reviewer ${esc(v.reviewed_by)})</span>` : ''}</td><td>${esc(new Date(v.created_at).toLocaleString())}</td><td class="num">${v.vocal_seconds.toFixed(1)}</td>
    <td><button class="link-dark load-rev" data-id="${v.id}" title="Put this revision's segments in the editor (as an edit)">use</button>
      <button class="link-dark ref-rev" data-id="${v.id}" title="Draw this revision under the waveform">reference</button></td></tr>`)
  $('history-rows').innerHTML = rows.join('') || '<tr><td colspan="8" class="muted">No revisions yet.</td></tr>'
  const picks = [...document.querySelectorAll('#history-rows .pick')]
  // Keep the revisions the user ticked across refreshes; tick the newest two the first time.
  if (ticked.size) picks.forEach((p) => { p.checked = ticked.has(+p.value) })
  else picks.slice(0, 2).forEach((p) => { p.checked = true })
  $('comments').innerHTML = page.comments.length
    ? page.comments.map((c) => `<li><b>${esc(c.author || '?')}</b> ${c.decision ? `<span class="badge ${c.decision === 'verified' ? 'verified' : 'failed'}">${esc(c.decision)}</span>` : ''}
        on r${c.revision_number}${c.time != null ? ` at <a href="#" class="seek" data-t="${c.time}">${fmt(c.time, 2)}</a>` : ''}: ${esc(c.text)}</li>`).join('')
    : '<li class="muted">No comments yet.</li>'
  fillReferenceChoices()
  renderSegments()
}

export function toggleHistory () {
  $('history').hidden = !$('history').hidden
  if (!$('history').hidden) loadHistory()
}

$('comments').addEventListener('click', (ev) => {
  const a = ev.target.closest('.seek')
  if (a) { ev.preventDefault(); ws.setTime(+a.dataset.t); ws.setScrollTime(Math.max(0, +a.dataset.t - 2)) }
})

$('history-rows').addEventListener('click', async (ev) => {
  const ref = ev.target.closest('.ref-rev')
  if (ref) { setReference(ref.dataset.id); return }
  const btn = ev.target.closest('.load-rev')
  if (!btn) return
  let rev
  try { rev = await api(`${cfg.api.revisions}/${btn.dataset.id}`) } catch { return }
  edit(P.fromSegments(rev.segments, state.duration))
  banner(`Revision ${rev.number} is in the editor as an unsaved edit.`, 'info', 3000)
})

$('btn-diff').addEventListener('click', async () => {
  const ids = [...document.querySelectorAll('#history-rows .pick:checked')].map((p) => +p.value).sort((a, b) => a - b)
  if (ids.length !== 2) { $('diff-out').textContent = 'Tick exactly two revisions.'; return }
  let d
  try { d = await api(`${cfg.api.diff}?from=${ids[0]}&to=${ids[1]}`) } catch (err) { $('diff-out').textContent = err.message || 'failed'; return }
  const moved = d.boundaries_moved.map((m) => `${fmt(m.from, 2)}→${fmt(m.to, 2)} (${m.delta > 0 ? '+' : ''}${(m.delta * 1000).toFixed(0)} ms)`)
  $('diff-out').innerHTML = `<p>From <b>r${d.from.number}</b> (${esc(d.from.author || d.from.origin)}) to <b>r${d.to.number}</b> by <b>${esc(d.to.author || d.to.origin)}</b>:
    <b class="diff-frames">${d.frames_changed}</b> of ${d.frames_total} frames changed (${d.seconds_changed} s; ${d.frames_to_vocal} to vocal, ${d.frames_to_non_vocal} to non-vocal).</p>
    <p>${d.boundaries_moved.length} boundaries moved${moved.length ? ': ' + esc(moved.slice(0, 12).join(', ')) + (moved.length > 12 ? '…' : '') : ''};
    ${d.boundaries_added.length} added, ${d.boundaries_removed.length} removed.</p>
    <ul class="spans">${d.spans.slice(0, 50).map((s) => `<li><a href="#" class="seek" data-t="${s.start}">${fmt(s.start, 2)}–${fmt(s.end, 2)}</a> → ${esc(s.to)}</li>`).join('')}</ul>`
})
$('diff-out').addEventListener('click', (ev) => {
  const a = ev.target.closest('.seek')
  if (a) { ev.preventDefault(); ws.setTime(+a.dataset.t); ws.setScrollTime(Math.max(0, +a.dataset.t - 1)) }
})
$('btn-history').addEventListener('click', toggleHistory)
