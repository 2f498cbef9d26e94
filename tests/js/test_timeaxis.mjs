// Unit tests of static/js/editor/timeaxis.js and the partition helpers of the editor's newer tools.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import * as T from '../../static/js/editor/timeaxis.js'
import * as P from '../../static/js/editor/partition.js'

test('one time format: m:ss with the decimals asked for, h:mm:ss from an hour, never 0:60', () => {
  assert.equal(T.fmtTime(0), '0:00')
  assert.equal(T.fmtTime(42.97, 2), '0:42.97')
  assert.equal(T.fmtTime(60), '1:00')
  assert.equal(T.fmtTime(70), '1:10')
  assert.equal(T.fmtTime(59.9996, 3), '1:00.000')
  assert.equal(T.fmtTime(3725.5, 1), '1:02:05.5')
})

test('parseTime reads the format back and plain seconds, and refuses nonsense', () => {
  for (const t of [0, 0.01, 5.25, 59.999, 60, 70.5, 3599.99, 3725.5]) assert.ok(Math.abs(T.parseTime(T.fmtTime(t, 3)) - t) < 1e-9, t)
  assert.equal(T.parseTime('65.25'), 65.25)
  assert.equal(T.parseTime('1:05,5'), 65.5)
  for (const bad of ['', 'abc', '1:75', '-3', '1::2', '5e3']) assert.ok(Number.isNaN(T.parseTime(bad)), bad)
})

test('ruler ticks: labels at least a label apart, every label reads back as its own time', () => {
  for (const pps of [1.5, 2.3, 29.8, 60, 100, 500, 5000]) {
    const { step, ticks } = T.rulerTicks(3, 3 + 1360 / pps, pps)
    const labels = ticks.filter((k) => k.major)
    assert.ok(labels.length >= 2, `pps ${pps}: ${labels.length} labels`)
    assert.ok(step * pps >= 56, `pps ${pps}: labels ${step * pps} px apart`)
    for (const k of labels) assert.ok(Math.abs(T.parseTime(k.label) - k.t) < 1e-6, `${k.label} vs ${k.t}`)
    assert.ok(ticks.every((k, i) => i === 0 || k.t > ticks[i - 1].t))
  }
})

test('the mel axis puts higher frequencies higher up, inside the lane', () => {
  const header = { n_mels: 80, mel_min: T.hzToMel(27.5) + 0.5, mel_step: 0.4 }
  const ticks = T.freqTicks(header, 128)
  assert.ok(ticks.length >= 4)
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i].hz < ticks[i - 1].hz && ticks[i].y > ticks[i - 1].y)
  assert.ok(ticks.every((k) => k.y >= 0 && k.y <= 128))
  assert.equal(T.hzLabel(2000), '2k')
})

test('the spectrogram level has at least one row per pixel', () => {
  const header = { frame_rate: 100, levels: new Array(7).fill({}) }
  assert.equal(T.specLevel(header, 2.27), 5) // 3.125 rows/s >= 2.27 px/s
  assert.equal(T.specLevel(header, 100), 0)
  assert.equal(T.specLevel(header, 5000), 0)
  assert.equal(T.specLevel(header, 0.01), 6)
})

const segs = () => [
  { start: 0, end: 2, label: 'non-vocal' },
  { start: 2, end: 6, label: 'vocal' },
  { start: 6, end: 10, label: 'non-vocal' }
]

test('typed segment times: refused with a sentence when start > end or out of range, null when exact', () => {
  assert.match(P.segmentTimesProblem(segs(), 1, 5, 3), /must be before the end/)
  assert.match(P.segmentTimesProblem(segs(), 1, 2, 12), /inside the song/)
  assert.match(P.segmentTimesProblem(segs(), 1, NaN, 3), /Type the times/)
  assert.match(P.segmentTimesProblem(segs(), 1, 0, 5), /previous segment keeps/)
  assert.match(P.segmentTimesProblem(segs(), 1, 3, 10), /next segment keeps/)
  assert.equal(P.segmentTimesProblem(segs(), 1, 1.5, 7), null)
})

test('paint makes [a, b] one segment of the label and keeps the partition valid', () => {
  const out = P.paint(segs(), 1, 3, 'vocal')
  assert.equal(P.checkPartition(out, 10), null)
  assert.deepEqual(out.map((s) => [s.start, s.end, s.label]),
    [[0, 1, 'non-vocal'], [1, 3, 'vocal'], [3, 6, 'vocal'], [6, 10, 'non-vocal']])
  const across = P.paint(segs(), 5, 1.5, 'non-vocal') // right to left, across a boundary
  assert.equal(P.checkPartition(across, 10), null)
  assert.deepEqual(across.map((s) => [s.start, s.end, s.label]),
    [[0, 1.5, 'non-vocal'], [1.5, 5, 'non-vocal'], [5, 6, 'vocal'], [6, 10, 'non-vocal']])
  const sliver = P.paint(segs(), 2.005, 9.995, 'vocal') // no 5 ms remainders
  assert.equal(P.checkPartition(sliver, 10), null)
  assert.deepEqual(sliver.map((s) => [s.start, s.end]), [[0, 2], [2, 10]])
  const before = segs()
  assert.equal(P.paint(before, 4, 4.005, 'vocal'), before) // shorter than a frame: nothing to paint
})
