// The reference revision: another revision of the song drawn under the waveform (by default the
// latest verified one), chosen in the Reference menu, the history panel, or with the 'r' key.
import { api } from '../api.js'
import { $, cfg, root, esc, banner } from './page.js'
import * as P from './partition.js'
import { state } from './state.js'
import { scheduleLanes } from './redraw.js'

export async function setReference (revisionId) {
  if (!revisionId) { state.ref = null; root.dataset.ref = ''; scheduleLanes(); return }
  let rev
  try { rev = await api(`${cfg.api.revisions}/${revisionId}`) } catch (err) { banner(esc(err.message), 'error', 4000); return }
  state.ref = { ...rev, segs: P.fromSegments(rev.segments, state.duration) }
  $('ref-label').textContent = `r${rev.number} ${rev.state}${rev.segments_by ? ' · ' + rev.segments_by : ''}`
  $('sel-ref').value = String(rev.id)
  root.dataset.ref = String(rev.number)
  scheduleLanes()
}

/** Hide the reference, or show it again (the last one, else the latest verified revision). */
export function toggleReference () {
  if (state.ref) { state.lastRef = state.ref.id; setReference(null); $('sel-ref').value = '' } else {
    const id = state.lastRef || ((state.revisions || []).find((v) => v.state === 'verified') || {}).id
    if (id) setReference(id)
    else banner('No revision to draw as the reference yet (choose one in the Reference menu).', 'info', 2500)
  }
}

/** The Reference menu's choices, after the revisions were (re)loaded. */
export function fillReferenceChoices () {
  const sel = $('sel-ref')
  const chosen = sel.value
  const opts = [['', 'none']]
  for (const v of state.revisions || []) opts.push([String(v.id), `r${v.number} ${v.state}${v.segments_by ? ' · ' + v.segments_by : ''}`])
  sel.replaceChildren(...opts.map(([value, text]) => { const o = document.createElement('option'); o.value = value; o.textContent = text; return o }))
  sel.value = opts.some(([value]) => value === chosen) ? chosen : ''
  if (!state.refChosen) { // the first time: the latest verified revision, if there is one
    state.refChosen = true
    const verified = (state.revisions || []).find((v) => v.state === 'verified')
    if (verified) setReference(verified.id)
  }
}
$('sel-ref').addEventListener('change', (ev) => setReference(ev.target.value))
