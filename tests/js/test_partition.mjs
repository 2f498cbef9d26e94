// Unit tests of static/js/editor/partition.js: `node --test tests/js/`
import assert from 'node:assert/strict'
import { test } from 'node:test'

import * as P from '../../static/js/editor/partition.js'

const D = 10
const base = () => [
  { start: 0, end: 2, label: 'non-vocal' },
  { start: 2, end: 6, label: 'vocal' },
  { start: 6, end: D, label: 'non-vocal' }
]
const ok = (segs) => assert.equal(P.checkPartition(segs, D), null, JSON.stringify(segs))

test('segmentAt finds the segment containing a time, the later one on a boundary', () => {
  assert.equal(P.segmentAt(base(), 0), 0)
  assert.equal(P.segmentAt(base(), 1.99), 0)
  assert.equal(P.segmentAt(base(), 2), 1)
  assert.equal(P.segmentAt(base(), 9.99), 2)
  assert.equal(P.segmentAt(base(), D), 2)
})

test('split at the cursor makes two segments with the same label and keeps the partition', () => {
  const s = P.split(base(), 4)
  ok(s)
  assert.equal(s.length, 4)
  assert.deepEqual(s[1], { start: 2, end: 4, label: 'vocal' })
  assert.deepEqual(s[2], { start: 4, end: 6, label: 'vocal' })
})

test('split closer than one frame to a boundary does nothing', () => {
  const segs = base()
  assert.equal(P.split(segs, 2.005), segs)
  assert.equal(P.split(segs, 0), segs)
})

test('toggle flips one label and leaves the input untouched', () => {
  const segs = base()
  const t = P.toggle(segs, 1)
  assert.equal(t[1].label, 'non-vocal')
  assert.equal(segs[1].label, 'vocal')
  ok(t)
})

test('mergeNext and deleteBoundary join two segments, the left label wins', () => {
  const m = P.mergeNext(base(), 0)
  ok(m)
  assert.deepEqual(m[0], { start: 0, end: 6, label: 'non-vocal' })
  assert.deepEqual(P.deleteBoundary(base(), 2), [base()[0], { start: 2, end: D, label: 'vocal' }])
  assert.equal(P.mergeNext(base(), 2).length, 3) // last segment has no next
})

test('moving a boundary moves both neighbours and never leaves a gap or overlap', () => {
  const m = P.moveBoundary(base(), 1, 3.5)
  ok(m)
  assert.equal(m[0].end, 3.5)
  assert.equal(m[1].start, 3.5)
})

test('moving a boundary past its neighbour clamps it one frame before the next boundary', () => {
  const m = P.moveBoundary(base(), 1, 100)
  ok(m)
  assert.equal(m[1].start, 5.99)
  const n = P.moveBoundary(base(), 1, -5)
  assert.equal(n[1].start, 0.01)
})

test('nudge moves the boundary by one 10 ms frame, or 100 ms', () => {
  assert.equal(P.nudgeBoundary(base(), 1, 0.01)[1].start, 2.01)
  assert.equal(P.nudgeBoundary(base(), 2, -0.1)[2].start, 5.9)
  let s = base()
  for (let i = 0; i < 7; i++) s = P.nudgeBoundary(s, 1, 0.01)
  assert.equal(s[1].start, 2.07) // no float drift
})

test('snapAll puts boundaries on the frame grid and drops segments that vanish', () => {
  const s = P.snapAll([
    { start: 0, end: 1.234, label: 'vocal' },
    { start: 1.234, end: 1.236, label: 'non-vocal' },
    { start: 1.236, end: D, label: 'vocal' }
  ])
  ok(s)
  assert.deepEqual(s.map((x) => x.end), [1.23, 1.24, D])
  const v = P.snapAll([
    { start: 0, end: 1.231, label: 'vocal' },
    { start: 1.231, end: 1.233, label: 'non-vocal' },
    { start: 1.233, end: D, label: 'vocal' }
  ])
  ok(v)
  assert.equal(v.length, 2)
})

test('typing exact times moves both boundaries of a segment', () => {
  const s = P.setSegmentTimes(base(), 1, 1.5, 7.25)
  ok(s)
  assert.deepEqual(s[1], { start: 1.5, end: 7.25, label: 'vocal' })
  const first = P.setSegmentTimes(base(), 0, 5, 1) // the first segment's start stays 0
  assert.equal(first[0].start, 0)
  assert.equal(first[0].end, 1)
})

test('normalize joins same-label neighbours; samePartition compares normalized', () => {
  const s = P.split(base(), 4)
  assert.equal(P.normalize(s).length, 3)
  assert.ok(P.samePartition(s, base()))
  assert.ok(!P.samePartition(P.toggle(base(), 0), base()))
})

test('nearestBoundary finds the closest boundary within a distance', () => {
  assert.equal(P.nearestBoundary(base(), 2.2), 1)
  assert.equal(P.nearestBoundary(base(), 5.5), 2)
  assert.equal(P.nearestBoundary(base(), 4, 0.5), -1)
})

test('undo and redo walk the history; a new edit clears the redo list', () => {
  let h = P.history(base())
  h = P.push(h, P.split(h.present, 4))
  h = P.push(h, P.toggle(h.present, 2))
  assert.equal(h.present.length, 4)
  h = P.undo(h)
  assert.equal(h.present[2].label, 'vocal')
  h = P.undo(h)
  assert.deepEqual(h.present, base())
  assert.equal(P.undo(h), h)
  h = P.redo(h)
  assert.equal(h.present.length, 4)
  h = P.push(h, P.toggle(h.present, 0))
  assert.equal(h.future.length, 0)
  assert.equal(P.redo(h), h)
})

test('a no-op edit is not pushed onto the history', () => {
  const h = P.history(base())
  assert.equal(P.push(h, h.present), h)
})

test('rebase keeps my edits and their edits where they do not touch', () => {
  const b = base()
  const mine = P.toggle(P.split(b, 4), 2) // 4..6 becomes non-vocal
  const theirs = P.moveBoundary(b, 1, 1) // vocal now starts at 1
  const merged = P.rebase(b, mine, theirs, D)
  ok(merged)
  assert.deepEqual(merged, [
    { start: 0, end: 1, label: 'non-vocal' },
    { start: 1, end: 4, label: 'vocal' },
    { start: 4, end: D, label: 'non-vocal' }
  ])
})

test('random edit sequences always keep a full partition', () => {
  let seed = 42
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  let s = base()
  for (let i = 0; i < 3000; i++) {
    const op = Math.floor(rnd() * 6)
    const k = Math.floor(rnd() * s.length)
    if (op === 0) s = P.split(s, rnd() * D)
    else if (op === 1) s = P.toggle(s, k)
    else if (op === 2) s = P.mergeNext(s, k)
    else if (op === 3) s = P.moveBoundary(s, k, rnd() * D)
    else if (op === 4) s = P.nudgeBoundary(s, k, rnd() < 0.5 ? -0.1 : 0.01)
    else s = P.snapAll(s)
    ok(s)
  }
})

test('float16 base64 decoding matches known values', () => {
  // 0.0, 0.5, 1.0, -2.0 in little-endian float16
  const bytes = Buffer.from([0x00, 0x00, 0x00, 0x38, 0x00, 0x3c, 0x00, 0xc0])
  assert.deepEqual([...P.decodeFloat16Base64(bytes.toString('base64'))], [0, 0.5, 1, -2])
})

test('uncertain spans, disagreements and jumping to the next span', () => {
  const hop = 0.01
  const probs = new Float32Array(1000).fill(0.05)
  probs.fill(0.95, 200, 600)
  probs.fill(0.5, 700, 720) // unsure for 0.2 s
  const spans = P.uncertainSpans(probs, hop, 0.5)
  assert.deepEqual(spans, [{ start: 7, end: 7.2 }])
  const segs = base() // vocal 2..6 agrees with the model
  const dis = P.disagreementSpans(segs, probs, hop, 0.5)
  assert.deepEqual(dis, [{ start: 7, end: 7.2 }]) // 0.5 >= threshold: model says vocal there
  assert.deepEqual(P.nextSpan(dis, 0), { start: 7, end: 7.2 })
  assert.deepEqual(P.nextSpan(dis, 8), { start: 7, end: 7.2 }) // wraps around
  assert.equal(P.nextSpan([], 0), null)
})
