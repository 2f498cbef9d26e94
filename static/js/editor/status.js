// The status bar: which revision the edits are based on, whether they are saved, and which buttons
// (save, undo, redo, verify) can be used now.
import { $, root } from './page.js'
import { state, isDirty } from './state.js'

export function renderStatus () {
  const b = state.base
  const badge = $('rev-badge')
  if (b && b.id) {
    const by = b.segments_by || (b.origin && b.origin.startsWith('model:') ? 'the model' : '')
    badge.textContent = `revision ${b.number} · ${b.state} · ${b.origin}${by ? ' · by ' + by : ''}`
    badge.className = `badge ${b.state}`
    $('rev-reviewer').textContent = b.reviewed_by ? `${b.state === 'verified' ? 'verified' : 'reviewed'} by ${b.reviewed_by}` : ''
  } else {
    badge.textContent = 'no revision yet'
    badge.className = 'badge'
    $('rev-reviewer').textContent = ''
  }
  const dirty = isDirty()
  $('save-status').textContent = state.saving ? 'Saving…' : dirty ? `Unsaved changes (${state.hist.past.length} edit${state.hist.past.length === 1 ? '' : 's'})` : 'All changes saved'
  $('save-status').classList.toggle('unsaved', dirty)
  $('btn-save').disabled = state.saving || !dirty
  $('btn-undo').disabled = !state.hist.past.length
  $('btn-redo').disabled = !state.hist.future.length
  const verify = $('btn-verify')
  if (verify) {
    const refusal = b && b.verify_refusal
    verify.disabled = !!refusal
    verify.title = refusal || 'Verify the current revision'
    const note = $('verify-note')
    if (note) { note.textContent = refusal || ''; note.hidden = !refusal }
  }
  root.dataset.dirty = dirty ? '1' : '0'
  root.dataset.revision = b && b.id ? b.number : 0
}
