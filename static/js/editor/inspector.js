// The selection inspector: which segment (or boundary) is selected, its label and times, and the form
// that sets a segment's start and end by typing them.
import { $ } from './page.js'
import * as P from './partition.js'
import { state, current, edit, selectedSegment, selectedBoundary } from './state.js'
import { fmtTime as fmt, parseTime } from './timeaxis.js'

export function renderInspector () {
  const segs = current()
  const form = $('sel-form')
  if (!state.sel) { form.hidden = true; $('sel-none').hidden = false; return }
  form.hidden = false
  $('sel-none').hidden = true
  const k = selectedSegment()
  const s = segs[k]
  $('sel-index').textContent = k + 1
  $('sel-count').textContent = segs.length
  $('sel-label').textContent = s.label
  $('sel-label').className = `badge ${s.label === P.VOCAL ? 'vocal' : 'nonvocal'}`
  if (document.activeElement !== $('sel-start')) $('sel-start').value = fmt(s.start, 3)
  if (document.activeElement !== $('sel-end')) $('sel-end').value = fmt(s.end, 3)
  $('sel-start').disabled = k === 0
  $('sel-end').disabled = k === segs.length - 1
  const b = selectedBoundary()
  $('sel-boundary').textContent = b > 0 ? `Boundary at ${fmt(segs[b].start, 3)} selected: , . nudge 10 ms (Shift 100 ms), Delete removes it` : ''
}

$('sel-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const k = selectedSegment()
  const segs = current()
  const start = $('sel-start').disabled ? segs[k].start : parseTime($('sel-start').value)
  const end = $('sel-end').disabled ? segs[k].end : parseTime($('sel-end').value)
  const problem = P.segmentTimesProblem(segs, k, start, end)
  $('sel-error').textContent = problem || ''
  if (problem) return // refused: nothing changes, nothing is recorded
  edit(P.setSegmentTimes(segs, k, start, end), { select: { kind: 'segment', index: k } })
  $('sel-start').blur(); $('sel-end').blur()
  renderInspector()
})
for (const id of ['sel-start', 'sel-end']) $(id).addEventListener('input', () => { $('sel-error').textContent = '' })
