// Pure helpers of the editor's axes: the one time format, the time ruler's ticks, the spectrogram's
// mel frequency axis. No DOM. Unit-tested with `node --test tests/js/` (test_timeaxis.mjs).
//
// One time format everywhere in the editor: m:ss (h:mm:ss from an hour), with as many decimals as
// the context needs ("1:05", "1:05.3", "1:05.250"). parseTime reads it back, and plain seconds too.

const EPS = 1e-9

/** "m:ss[.ddd]" (or "h:mm:ss[.ddd]"), `digits` decimals of a second. */
export function fmtTime (t, digits = 0) {
  if (!Number.isFinite(t)) return '–'
  const neg = t < 0
  const scale = 10 ** digits
  let units = Math.round(Math.abs(t) * scale) // whole units of 10^-digits s: no "0:60" from rounding
  const frac = units % scale
  units = (units - frac) / scale
  const s = units % 60
  const m = Math.floor(units / 60) % 60
  const h = Math.floor(units / 3600)
  const ss = String(s).padStart(2, '0') + (digits ? '.' + String(frac).padStart(digits, '0') : '')
  return (neg ? '-' : '') + (h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`)
}

/** Seconds from "m:ss.sss", "h:mm:ss", or plain seconds ("65.25"); NaN when it is neither. */
export function parseTime (text) {
  const s = String(text ?? '').trim().replace(',', '.')
  if (!s) return NaN
  if (/^\d+(\.\d*)?$|^\.\d+$/.test(s)) return parseFloat(s)
  const m = s.match(/^(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d*)?)$/)
  if (!m) return NaN
  const sec = parseFloat(m[3])
  if (sec >= 60 || (m[1] !== undefined && +m[2] >= 60)) return NaN
  return (m[1] ? +m[1] * 3600 : 0) + +m[2] * 60 + sec
}

// Label steps of the ruler (seconds) and how many minor ticks divide each.
const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
const MINOR = { 0.01: 5, 0.02: 4, 0.05: 5, 0.1: 5, 0.2: 4, 0.5: 5, 1: 5, 2: 4, 5: 5, 10: 5, 15: 3, 30: 6, 60: 4, 120: 4, 300: 5, 600: 4, 900: 3, 1800: 6, 3600: 4, 7200: 4 }

export const stepDigits = (step) => (step >= 1 ? 0 : step >= 0.1 ? 1 : 2)

/** The ruler's label step at `pps` pixels per second: the smallest step whose labels are at least
 * a label's width (plus a gap) apart. */
export function rulerStep (pps) {
  for (const step of STEPS) {
    const room = 56 + 8 * stepDigits(step) // px for "0:00" / "0:00.0" / "0:00.00" and a gap
    if (step * pps >= room) return step
  }
  return STEPS[STEPS.length - 1]
}

/** Ticks between t0 and t1 (seconds) at `pps`: [{t, major, label}]; labels in the one time format. */
export function rulerTicks (t0, t1, pps) {
  const step = rulerStep(pps)
  const minor = step / MINOR[step]
  const digits = stepDigits(step)
  const out = []
  const k0 = Math.ceil(t0 / minor - EPS)
  const k1 = Math.floor(t1 / minor + EPS)
  for (let k = Math.max(0, k0); k <= k1; k++) {
    const t = Math.round(k * minor * 1e6) / 1e6
    const major = Math.abs(t / step - Math.round(t / step)) < 1e-6
    out.push(major ? { t, major, label: fmtTime(t, digits) } : { t, major })
  }
  return { step, minor, digits, ticks: out }
}

// -- the spectrogram's mel frequency axis (Slaney's mel scale, as detector.features) --------------

export function hzToMel (f) {
  return f >= 1000 ? 15 + Math.log(f / 1000) / (Math.log(6.4) / 27) : f / (200 / 3)
}

/** Fractional band index of frequency `f`: band b is centred at mel_min + b * mel_step. */
export const bandOf = (f, header) => (hzToMel(f) - header.mel_min) / header.mel_step

/** y (px from the top, in a lane `height` px tall) of the centre of frequency `f`; band 0 at the bottom. */
export const yOfHz = (f, header, height) => height * (1 - (bandOf(f, header) + 0.5) / header.n_mels)

export const hzLabel = (f) => (f >= 1000 ? `${+(f / 1000).toFixed(1)}k` : String(Math.round(f)))

/** Hz labels for the axis, at least `minGap` px apart, inside the band range. */
export function freqTicks (header, height, minGap = 14) {
  const candidates = [8000, 6000, 4000, 3000, 2000, 1000, 500, 300, 200, 100, 50]
  const out = []
  for (const hz of candidates) {
    const b = bandOf(hz, header)
    if (b < -0.5 || b > header.n_mels - 0.5) continue
    const y = yOfHz(hz, header, height)
    if (y < 7 || y > height - 7) continue // a label must fit inside the lane
    if (out.every((o) => Math.abs(o.y - y) >= minGap)) out.push({ hz, y, label: hzLabel(hz) })
  }
  return out.sort((a, b) => a.y - b.y)
}

/** The zoom level of a spectrogram pyramid for `pps` px/s: the coarsest with a row per pixel or more. */
export function specLevel (header, pps) {
  const levels = header.levels.length
  const k = Math.floor(Math.log2(header.frame_rate / Math.max(pps, 1e-6)))
  return Math.max(0, Math.min(levels - 1, k))
}
