// The working partition and the server's revisions: save (PUT with If-Match), the conflict dialog
// when someone saved first (HTTP 409: re-apply my edits on theirs, or load theirs), submit for
// review, verify / reject / comment, import a file, discard a restored draft. Every path that moves
// onto a new revision goes through adopt().
import { api } from '../api.js'
import { $, cfg, root, esc, banner } from './page.js'
import * as P from './partition.js'
import { state, current, isDirty } from './state.js'
import { rebase } from './drafts.js'
import { renderStatus } from './status.js'
import { loadHistory } from './history.js'
import { ws } from './waveform.js'

const etagOf = (rev) => (rev && rev.id ? `"${rev.id}"` : '"none"')

/** Move onto revision `rev` (see drafts.rebase), say so, and reload what depends on it: the history
 * panel, or (after a conflict: the 409 body lacks the per-user fields) the base revision itself. */
function adopt (rev, { history, message, kind = 'ok', ms = 2500, reload = loadHistory }) {
  rebase(rev, history)
  banner(message, kind, ms)
  reload()
}

/** Show what went wrong with a write: the conflict dialog for a 409, the server's sentence otherwise. */
function refused (err) {
  if (err.status === 409) showConflict(err.data)
  else banner(esc(err.message), 'error')
}

export async function save () {
  if (state.saving || !isDirty()) return
  state.saving = true
  renderStatus()
  let rev
  try {
    rev = await api(cfg.api.annotation, { method: 'PUT', body: { segments: P.normalize(current()) }, headers: { 'If-Match': etagOf(state.base) } })
  } catch (err) {
    state.saving = false
    renderStatus()
    refused(err)
    return
  }
  state.saving = false
  adopt(rev, {
    // keep the undo history, but the saved partition is now the reference
    history: (h) => ({ past: h.past, present: P.fromSegments(rev.segments, state.duration), future: [] }),
    message: `Saved revision ${rev.number}.`
  })
}

export function showConflict (data) {
  state.conflict = data.latest
  const l = data.latest
  const when = l && l.created_at ? new Date(l.created_at).toLocaleString() : ''
  $('conflict-text').innerHTML = l
    ? `<b>${esc(l.author || 'Someone')}</b> saved revision <b>${l.number}</b> (${esc(l.origin)}, ${esc(l.state)}, ${l.n_segments} segments, ${l.vocal_seconds.toFixed(1)} s vocal) at ${esc(when)}, after the revision your edits started from. ${esc(data.error)}`
    : esc(data.error)
  root.dataset.conflict = '1'
  const dlg = $('conflict')
  if (!dlg.open) dlg.showModal()
  renderStatus()
}

function closeConflict () {
  state.conflict = null
  root.dataset.conflict = '0'
  $('conflict').close()
}

$('btn-reapply').addEventListener('click', () => {
  const latest = state.conflict
  if (!latest) return
  const merged = P.rebase(state.baseSegs, current(), P.fromSegments(latest.segments, state.duration), state.duration)
  closeConflict()
  adopt(latest, {
    history: (h) => P.push(h, merged),
    message: `Your edits were re-applied on top of revision ${latest.number} by ${esc(latest.author || 'someone')}. Check them and save.`,
    kind: 'info',
    ms: 0,
    reload: refreshBase
  })
})

$('btn-reload').addEventListener('click', () => {
  const latest = state.conflict
  if (!latest) return
  closeConflict()
  adopt(latest, { history: () => P.history(P.fromSegments(latest.segments, state.duration)), message: `Loaded revision ${latest.number}.`, reload: refreshBase })
})

$('btn-conflict-cancel').addEventListener('click', () => { $('conflict').close() })

/** The 409 body's revision lacks the per-user fields (verify_refusal): fetch the base again. */
async function refreshBase () {
  if (!state.base || !state.base.id) return
  let rev
  try { rev = await api(`${cfg.api.revisions}/${state.base.id}`) } catch { return }
  if (state.base && rev.id === state.base.id) { state.base = { ...state.base, ...rev }; renderStatus() }
}

// ------------------------------------------------------------------------------------ review, import
async function afterStateChange (answer, message) {
  let rev
  try { rev = await answer } catch (err) { refused(err); return }
  adopt(rev, { message: esc(message) })
}

export async function submitForReview () {
  if (isDirty()) { await save(); if (isDirty()) return }
  afterStateChange(api(cfg.api.submit, { method: 'POST', headers: { 'If-Match': etagOf(state.base) } }), 'Submitted for review.')
}

async function review (decision, comment = '', time = null) {
  if (isDirty() && decision !== 'comment') { banner('Save your edits before reviewing.', 'error'); return }
  const answer = api(cfg.api.review, {
    method: 'POST', body: { decision, comment, time }, headers: decision === 'comment' ? {} : { 'If-Match': etagOf(state.base) }
  })
  if (decision === 'comment') {
    try { await answer } catch (err) { refused(err); return }
    banner('Comment added.', 'ok', 2000)
    loadHistory()
    return
  }
  afterStateChange(answer.then((data) => data.revision), decision === 'verify' ? 'Verified.' : 'Rejected: back to draft.')
}

const pinTime = (box) => (box.checked ? +ws.getCurrentTime().toFixed(3) : null)

$('btn-submit').addEventListener('click', submitForReview)
if ($('btn-verify')) $('btn-verify').addEventListener('click', () => review('verify'))
if ($('btn-reject')) {
  $('btn-reject').addEventListener('click', () => { $('reject-text').value = ''; $('reject-dialog').showModal() })
  $('reject-dialog').addEventListener('close', () => {
    if ($('reject-dialog').returnValue !== 'ok') return
    review('reject', $('reject-text').value, pinTime($('reject-pin')))
  })
}
$('comment-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const text = $('comment-text').value.trim()
  if (!text) return
  review('comment', text, pinTime($('comment-pin')))
  $('comment-text').value = ''
})

$('import-file').addEventListener('change', async (ev) => {
  const file = ev.target.files[0]
  ev.target.value = ''
  if (!file) return
  if (isDirty() && !window.confirm('Importing replaces your unsaved edits. Continue?')) return
  const fd = new FormData()
  fd.append('file', file)
  let rev
  try { rev = await api(cfg.api.annotation, { method: 'POST', body: fd, headers: { 'If-Match': etagOf(state.base) } }) } catch (err) { refused(err); return }
  adopt(rev, {
    history: () => P.history(P.fromSegments(rev.segments, state.duration)),
    message: `Imported ${esc(file.name)} as revision ${rev.number}.`,
    ms: 3000
  })
})

// A draft restored on opening the song can be thrown away from the banner.
$('banner').addEventListener('click', (ev) => {
  const btn = ev.target.closest('[data-action="discard-draft"]')
  if (!btn) return
  rebase(state.base, () => P.history(state.baseSegs))
  banner(`Your unsaved edits were discarded; this is revision ${state.base.number || 0} as saved.`, 'ok', 3000)
})

// Leaving with unsaved edits: the browser asks first (the draft is also kept in this browser).
window.addEventListener('beforeunload', (ev) => {
  if (!isDirty()) return
  ev.preventDefault()
  ev.returnValue = ''
})
