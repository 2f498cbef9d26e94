// What the editor can be asked to do, by name: the key map (keymap.js) and the toolbar buttons call
// these. Each takes at most one argument (from the key map) and the key event when there is one.
import { $, root, banner } from './page.js'
import * as P from './partition.js'
import { state, current, changed, edit, select, selectedSegment, selectedBoundary } from './state.js'
import { ws, pxPerSec, reveal, zoomTo } from './waveform.js'
import { playPause, playSelected, audition, stepRate, seekBy, toggleLoop } from './playback.js'
import { toggleSpectrogram } from './spectrogram.js'
import { toggleReference } from './reference.js'
import { toggleHistory } from './history.js'
import { save } from './revisions.js'
import { typingIn } from './keymap.js'

const selectSegment = (k) => ({ kind: 'segment', index: k })
const noPrediction = () => banner('There is no model prediction for this song yet.', 'info', 2500)

/** Put the cursor on span `s` (scrolling to it if needed) and select the segment it starts in. */
function goToSpan (s) {
  ws.setTime(s.start)
  reveal(s.start)
  select(selectSegment(P.segmentAt(current(), s.start + 1e-3)))
}

export const actions = {
  // editing
  split: () => {
    const t = ws.getCurrentTime()
    const next = P.split(current(), t)
    edit(next, { select: { kind: 'boundary', index: P.segmentAt(next, t) } })
  },
  toggle: () => { const k = selectedSegment(); edit(P.toggle(current(), k), { select: selectSegment(k) }) },
  setLabel: (label) => { const k = selectedSegment(); edit(P.setLabel(current(), k, label), { select: selectSegment(k) }) },
  merge: () => { const k = selectedSegment(); edit(P.mergeNext(current(), k), { select: selectSegment(k) }) },
  deleteBoundary: () => {
    const b = selectedBoundary()
    if (b > 0) edit(P.deleteBoundary(current(), b), { select: selectSegment(b - 1) })
  },
  nudge: (delta) => {
    let b = selectedBoundary()
    if (b < 0) { b = P.nearestBoundary(current(), ws.getCurrentTime()); if (b < 0) return }
    edit(P.nudgeBoundary(current(), b, delta), { select: { kind: 'boundary', index: b } })
  },
  snap: () => edit(P.snapAll(current())),
  undo: () => { state.hist = P.undo(state.hist); changed() },
  redo: () => { state.hist = P.redo(state.hist); changed() },
  save: () => save(),

  // selection and navigation
  selectBoundary: () => {
    const b = P.nearestBoundary(current(), ws.getCurrentTime())
    if (b > 0) select({ kind: 'boundary', index: b })
  },
  nextSegment: (dir) => {
    const n = current().length
    const k = Math.max(0, Math.min(n - 1, selectedSegment() + dir))
    ws.setTime(current()[k].start)
    select(selectSegment(k))
  },
  nextUnsure: () => {
    if (!state.pred) { noPrediction(); return }
    const ranked = state.pred.ranked
    if (!ranked.length) { banner('No uncertain spans.', 'info', 2000); return }
    const k = state.pred.unsureNext % ranked.length
    state.pred.unsureNext = k + 1
    const s = ranked[k]
    root.dataset.unsure = String(k + 1)
    banner(`Unsure region ${k + 1} of ${ranked.length}${s.uncertainty != null ? ` (uncertainty ${s.uncertainty.toFixed(2)})` : ''}: most uncertain first.`, 'info', 2000)
    goToSpan(s)
  },
  nextDisagreement: () => {
    if (!state.pred) { noPrediction(); return }
    const s = P.nextSpan(state.pred.disagree, ws.getCurrentTime())
    if (!s) { banner('No disagreement spans.', 'info', 2000); return }
    goToSpan(s)
  },
  escape: (arg, ev) => {
    if (ev && typingIn(ev.target)) ev.target.blur()
    select(null)
    $('history').hidden = true
  },

  // playback and view
  playPause,
  playSelected,
  audition,
  toggleLoop,
  stepRate,
  seekBy,
  zoom: (factor) => zoomTo(pxPerSec() * factor),
  zoomFit: () => zoomTo(0),
  toggleSpectrogram: () => toggleSpectrogram($('spectrogram').hidden),
  toggleReference,
  toggleHistory,
  help: () => $('help').showModal()
}
