// Pure partition logic of the annotation editor: no DOM, no wavesurfer. Unit-tested with
// `node --test tests/js/` (see tests/web/test_annotations_partition_js.py).
//
// A partition is an array of segments {start, end, label} (seconds; label "vocal" | "non-vocal")
// covering [0, duration] with no gaps and no overlaps: segs[k].end === segs[k + 1].start.
// Boundary b (1 <= b < segs.length) is the time segs[b].start shared by segments b - 1 and b.
// Every operation returns a NEW array (the undo stack keeps the old ones) and keeps the invariant.

import { fmtTime } from './timeaxis.js'

export const VOCAL = 'vocal'
export const NON_VOCAL = 'non-vocal'
export const FRAME = 0.01 // seconds: the detector's frame grid (hop 160 samples at 16 kHz)
export const MIN_LEN = FRAME // no segment gets shorter than one frame by an edit

const EPS = 1e-9

export const round6 = (t) => Math.round(t * 1e6) / 1e6
export const snapTime = (t, grid = FRAME) => round6(Math.round(t / grid) * grid)
export const flip = (label) => (label === VOCAL ? NON_VOCAL : VOCAL)
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x))

/** Index of the segment containing time t (the later one on a boundary). */
export function segmentAt (segs, t) {
  let lo = 0
  let hi = segs.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (segs[mid].start <= t + EPS) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** Index b of the boundary nearest to t (1..n-1), or -1 when there is none within maxDist seconds. */
export function nearestBoundary (segs, t, maxDist = Infinity) {
  let best = -1
  let bestDist = maxDist
  const k = segmentAt(segs, t)
  for (const b of [k, k + 1]) {
    if (b >= 1 && b < segs.length) {
      const d = Math.abs(segs[b].start - t)
      if (d <= bestDist) { best = b; bestDist = d }
    }
  }
  return best
}

/** Check the invariant; returns null when fine, otherwise a sentence saying what is wrong. */
export function checkPartition (segs, duration, tol = 1e-6) {
  if (!Array.isArray(segs) || segs.length === 0) return 'no segments'
  if (Math.abs(segs[0].start) > tol) return `first segment starts at ${segs[0].start}`
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k]
    if (s.label !== VOCAL && s.label !== NON_VOCAL) return `segment ${k} has label ${s.label}`
    if (!(s.end - s.start > 0)) return `segment ${k} is empty`
    if (k > 0 && Math.abs(segs[k - 1].end - s.start) > tol) return `gap or overlap at segment ${k}`
  }
  if (Math.abs(segs[segs.length - 1].end - duration) > tol) return `last segment ends at ${segs[segs.length - 1].end}`
  return null
}

/** A partition from API segments, clipped to [0, duration]; one non-vocal segment when empty. */
export function fromSegments (raw, duration) {
  if (!raw || raw.length === 0) return [{ start: 0, end: duration, label: NON_VOCAL }]
  const segs = raw.map((s) => ({ start: +s.start, end: +s.end, label: s.label === VOCAL ? VOCAL : NON_VOCAL }))
  segs[0].start = 0
  segs[segs.length - 1].end = duration
  return segs
}

/** Split the segment containing t at t (both halves keep the label). No-op closer than MIN_LEN to an edge. */
export function split (segs, t) {
  const k = segmentAt(segs, t)
  const s = segs[k]
  t = round6(t)
  if (t - s.start < MIN_LEN - EPS || s.end - t < MIN_LEN - EPS) return segs
  return [...segs.slice(0, k), { ...s, end: t }, { ...s, start: t }, ...segs.slice(k + 1)]
}

/** Join segment k with the next one; the joined segment keeps segment k's label. */
export function mergeNext (segs, k) {
  if (k < 0 || k >= segs.length - 1) return segs
  return [...segs.slice(0, k), { start: segs[k].start, end: segs[k + 1].end, label: segs[k].label }, ...segs.slice(k + 2)]
}

/** Remove boundary b (between segments b - 1 and b); the left segment's label wins. */
export function deleteBoundary (segs, b) {
  return mergeNext(segs, b - 1)
}

/** Flip segment k's label (vocal <-> non-vocal). */
export function toggle (segs, k) {
  if (k < 0 || k >= segs.length) return segs
  return segs.map((s, i) => (i === k ? { ...s, label: flip(s.label) } : s))
}

/** Set segment k's label. */
export function setLabel (segs, k, label) {
  if (k < 0 || k >= segs.length || segs[k].label === label) return segs
  return segs.map((s, i) => (i === k ? { ...s, label } : s))
}

/** Move boundary b to time t: both neighbours follow, clamped so neither gets shorter than MIN_LEN. */
export function moveBoundary (segs, b, t) {
  if (b < 1 || b >= segs.length) return segs
  const lo = segs[b - 1].start + MIN_LEN
  const hi = segs[b].end - MIN_LEN
  if (hi < lo) return segs
  t = round6(clamp(t, lo, hi))
  if (Math.abs(t - segs[b].start) < EPS) return segs
  const out = segs.slice()
  out[b - 1] = { ...segs[b - 1], end: t }
  out[b] = { ...segs[b], start: t }
  return out
}

/** Nudge boundary b by delta seconds (e.g. +-0.01, Shift: +-0.1). */
export function nudgeBoundary (segs, b, delta) {
  if (b < 1 || b >= segs.length) return segs
  return moveBoundary(segs, b, segs[b].start + delta)
}

/** Snap every interior boundary to the frame grid; segments that would vanish are joined. */
export function snapAll (segs, grid = FRAME) {
  const out = []
  for (const s of segs) {
    const start = out.length ? out[out.length - 1].end : 0
    const end = s === segs[segs.length - 1] ? s.end : snapTime(s.end, grid)
    if (end - start < EPS) continue
    out.push({ start, end, label: s.label })
  }
  out[out.length - 1].end = segs[segs.length - 1].end
  return out
}

/** Set the start and end of segment k to typed times (moves its two boundaries, clamped). */
export function setSegmentTimes (segs, k, start, end) {
  let out = segs
  if (k > 0 && Number.isFinite(start)) out = moveBoundary(out, k, start)
  if (k < out.length - 1 && Number.isFinite(end)) out = moveBoundary(out, k + 1, end)
  return out
}

/**
 * Why segment k cannot get the typed times [start, end], or null when it can: the edit would be
 * applied exactly (no silent clamping). Times outside the song, start >= end, or a start / end that
 * would swallow a neighbouring segment (each keeps at least MIN_LEN) are refused with a sentence.
 */
export function segmentTimesProblem (segs, k, start, end) {
  const n = segs.length
  const duration = segs[n - 1].end
  const f = (t) => fmtTime(t, 3)
  if (!Number.isFinite(start) || !Number.isFinite(end)) return 'Type the times as m:ss.sss or in seconds (e.g. 1:05.250 or 65.25).'
  if (start < -EPS || end > duration + EPS) return `The times must be inside the song (${f(0)} to ${f(duration)}).`
  if (!(end - start > EPS)) return `The start (${f(start)}) must be before the end (${f(end)}).`
  if (k === 0 && Math.abs(start) > 1e-6) return `The first segment starts at ${f(0)}; move the end instead.`
  if (k === n - 1 && Math.abs(end - duration) > 1e-6) return `The last segment ends where the song ends (${f(duration)}); move the start instead.`
  if (end - start < MIN_LEN - EPS) return 'A segment is at least 10 ms long.'
  if (k > 0 && start < segs[k - 1].start + MIN_LEN - EPS) {
    return `The start must be after ${f(segs[k - 1].start + MIN_LEN)}: the previous segment keeps at least 10 ms (delete its boundary to join them).`
  }
  if (k < n - 1 && end > segs[k + 1].end - MIN_LEN + EPS) {
    return `The end must be before ${f(segs[k + 1].end - MIN_LEN)}: the next segment keeps at least 10 ms (merge them instead).`
  }
  return null
}

/**
 * Paint [a, b] with `label`: whatever was there becomes one segment of that label; the segments it
 * covers partly are cut at a and b, those it covers wholly disappear. The partition stays valid (no
 * gap, no overlap); a remainder shorter than MIN_LEN joins the painted segment.
 */
export function paint (segs, a, b, label) {
  const duration = segs[segs.length - 1].end
  if (b < a) [a, b] = [b, a]
  a = round6(clamp(a, 0, duration))
  b = round6(clamp(b, 0, duration))
  if (b - a < MIN_LEN - EPS) return segs
  const left = segs[segmentAt(segs, a)]
  if (a - left.start < MIN_LEN - EPS) a = left.start
  const right = segs[segmentAt(segs, b - EPS)]
  if (right.end - b < MIN_LEN - EPS) b = right.end
  const out = []
  for (const s of segs) {
    if (s.end <= a + EPS) out.push(s)
    else if (s.start < a - EPS) out.push({ ...s, end: a })
  }
  out.push({ start: a, end: b, label })
  for (const s of segs) {
    if (s.start >= b - EPS) out.push(s)
    else if (s.end > b + EPS) out.push({ ...s, start: b })
  }
  return out
}

/** Same-label neighbours joined (what the server stores). */
export function normalize (segs) {
  const out = []
  for (const s of segs) {
    const last = out[out.length - 1]
    if (last && last.label === s.label) last.end = s.end
    else out.push({ ...s })
  }
  return out
}

export function samePartition (a, b) {
  const x = normalize(a)
  const y = normalize(b)
  return x.length === y.length && x.every((s, i) => s.label === y[i].label &&
    Math.abs(s.start - y[i].start) < 1e-6 && Math.abs(s.end - y[i].end) < 1e-6)
}

/** Label at time t. */
export const labelAt = (segs, t) => segs[segmentAt(segs, t)].label

/**
 * Re-apply my edits on top of someone else's newer revision (three-way merge, exact in time).
 * Wherever my partition differs from the base I edited, mine wins; everywhere else theirs stays.
 */
export function rebase (base, mine, theirs, duration) {
  const cuts = new Set([0, duration])
  for (const p of [base, mine, theirs]) for (const s of p) { cuts.add(round6(s.start)); cuts.add(round6(s.end)) }
  const times = [...cuts].filter((t) => t >= 0 && t <= duration).sort((a, b) => a - b)
  const out = []
  for (let i = 0; i + 1 < times.length; i++) {
    const a = times[i]
    const b = times[i + 1]
    if (b - a < EPS) continue
    const mid = (a + b) / 2
    const mineLabel = labelAt(mine, mid)
    const label = mineLabel !== labelAt(base, mid) ? mineLabel : labelAt(theirs, mid)
    const last = out[out.length - 1]
    if (last && last.label === label) last.end = b
    else out.push({ start: a, end: b, label })
  }
  return out
}

// ------------------------------------------------------------------------- model probabilities
/** Decode base64 little-endian float16 into a Float32Array. */
export function decodeFloat16Base64 (b64) {
  const bin = atob(b64) // a global in browsers and in node >= 16
  const n = bin.length >> 1
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const h = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)
    const sign = h & 0x8000 ? -1 : 1
    const exp = (h >> 10) & 0x1f
    const frac = h & 0x3ff
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024)
      : exp === 31 ? (frac ? NaN : sign * Infinity)
        : sign * 2 ** (exp - 15) * (1 + frac / 1024)
  }
  return out
}

/** Spans [start, end] (seconds) where |p - threshold| < margin for at least minFrames frames. */
export function uncertainSpans (probs, hop, threshold, margin = 0.15, minFrames = 5) {
  const spans = []
  let runStart = -1
  for (let i = 0; i <= probs.length; i++) {
    const unsure = i < probs.length && Math.abs(probs[i] - threshold) < margin
    if (unsure && runStart < 0) runStart = i
    if (!unsure && runStart >= 0) {
      if (i - runStart >= minFrames) spans.push({ start: round6(runStart * hop), end: round6(i * hop) })
      runStart = -1
    }
  }
  return spans
}

/** Spans where the partition's label differs from the model's decision (p >= threshold), >= minFrames long. */
export function disagreementSpans (segs, probs, hop, threshold, minFrames = 3) {
  const spans = []
  let runStart = -1
  let k = 0
  for (let i = 0; i <= probs.length; i++) {
    let differ = false
    if (i < probs.length) {
      const t = (i + 0.5) * hop
      while (k < segs.length - 1 && segs[k].end <= t) k++
      differ = (segs[k].label === VOCAL) !== (probs[i] >= threshold)
    }
    if (differ && runStart < 0) runStart = i
    if (!differ && runStart >= 0) {
      if (i - runStart >= minFrames) spans.push({ start: round6(runStart * hop), end: round6(i * hop) })
      runStart = -1
    }
  }
  return spans
}

/** The first span starting after t (wrapping around to the first one), or null. */
export function nextSpan (spans, t) {
  if (!spans.length) return null
  return spans.find((s) => s.start > t + 1e-3) || spans[0]
}

// ---------------------------------------------------------------------------------- undo / redo
/** History: {past: [...], present, future: [...]}; every edit goes through push. */
export const history = (present) => ({ past: [], present, future: [] })

export function push (h, next, limit = 500) {
  if (next === h.present) return h
  const past = [...h.past, h.present]
  return { past: past.length > limit ? past.slice(past.length - limit) : past, present: next, future: [] }
}

export function undo (h) {
  if (!h.past.length) return h
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future] }
}

export function redo (h) {
  if (!h.future.length) return h
  return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1) }
}
