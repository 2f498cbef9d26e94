// The editor's one state object and the few rules about it: the working partition (an undo history
// of partitions), the revision it is based on, the selection. No DOM: the modules that draw subscribe
// with on('changed' | 'selected', fn), and the entry module wires them in editor.js.
import * as P from './partition.js'

export const state = {
  songId: null,
  duration: 0,
  base: null, // the revision the edits are based on (null id = the song has none)
  baseSegs: [],
  hist: P.history([]),
  sel: null, // {kind: 'segment' | 'boundary', index}
  pred: null, // the active model's curve: {probs, hop, threshold, ranked, unsureNext, uncertain, disagree, model}
  curves: { active: null, previous: null, other: null }, // {probs, hop, threshold, model, on}
  layers: [], // the song's predictions (GET predictions)
  ref: null, // reference revision {id, number, state, segments_by, segments, segs}
  revisions: null, // the song's revisions, newest first (loaded with the history panel)
  comments: null,
  drag: null, // a boundary being dragged: {b, start, moved, pointerId}
  paint: null, // a segment being painted: {x0, t0, t1, moved, label, pointerId}
  suppressClick: false,
  playRange: null, // {start, end} while a segment or an audition plays
  saving: false,
  conflict: null, // the latest revision of a refused save (HTTP 409)
  minPx: 0,
  spec: { on: false, header: null, error: null, tiles: new Map(), pending: new Map(), drawn: 0 }
}

const listeners = { changed: [], selected: [] }

/** Subscribe to 'changed' (the partition or its base changed) or 'selected' (the selection changed). */
export function on (event, fn) { listeners[event].push(fn) }

function emit (event) { for (const fn of listeners[event]) fn() }

let cursorTime = () => 0
/** Where the play cursor is (seconds): a selection falls back to the segment under it. */
export function useCursor (fn) { cursorTime = fn }

export const current = () => state.hist.present
export const isDirty = () => state.base !== null && !P.samePartition(current(), state.baseSegs)

export function setBase (rev) {
  state.base = rev
  state.baseSegs = P.fromSegments(rev.segments, state.duration)
}

/** Record `next` as an edit (undoable); `select` replaces the selection. */
export function edit (next, { select } = {}) {
  if (next === current()) return
  state.hist = P.push(state.hist, next)
  if (select !== undefined) state.sel = select
  changed()
}

export function changed () {
  clampSelection()
  emit('changed')
}

export function select (sel) {
  state.sel = sel
  emit('selected')
}

function clampSelection () {
  const s = state.sel
  if (!s) return
  const n = current().length
  if (s.kind === 'segment' && s.index >= n) state.sel = { kind: 'segment', index: n - 1 }
  if (s.kind === 'boundary' && (s.index < 1 || s.index >= n)) state.sel = null
}

/** The selected segment's index: the selection's, or the segment under the cursor. */
export function selectedSegment () {
  const s = state.sel
  if (!s) return P.segmentAt(current(), cursorTime())
  return s.kind === 'segment' ? s.index : s.index - 1
}

/** The selected boundary's index, -1 when none is selected. */
export function selectedBoundary () {
  const s = state.sel
  if (s && s.kind === 'boundary') return s.index
  return -1
}
