// "Export the view": the waveform, segments, ruler and lanes on screen composed into one PNG.
import { $, cfg, color, WAVE_H, RULER_H, REF_H, PROB_H, SPEC_H } from './page.js'
import * as P from './partition.js'
import { state, current } from './state.js'
import * as T from './timeaxis.js'
import { labelFor, LABEL_FONT } from './segments.js'
import { ws, wrapperRect } from './waveform.js'

/** The waveform, segments, ruler and lanes on screen, composed into one PNG (what you see). */
export async function exportView () {
  const dpr = window.devicePixelRatio || 1
  const host = $('waveform')
  const hostRect = host.getBoundingClientRect()
  const wr = wrapperRect()
  const w = ws.getWidth()
  const v = { t0: (hostRect.left - wr.left) / (wr.width / state.duration), pps: wr.width / state.duration }
  const x = (t) => (t - v.t0) * v.pps
  const parts = [['wave', WAVE_H], ['ruler', RULER_H]]
  if (state.ref) parts.push(['ref', REF_H])
  parts.push(['prob', PROB_H])
  if (state.spec.on && state.spec.header) parts.push(['spec', SPEC_H])
  const H = parts.reduce((s, [, h]) => s + h, 0)
  const out = document.createElement('canvas')
  out.width = Math.round(w * dpr); out.height = Math.round(H * dpr)
  const ctx = out.getContext('2d')
  ctx.scale(dpr, dpr)
  ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, H)
  let y = 0
  for (const [part, h] of parts) {
    if (part === 'wave') {
      for (const c of ws.getWrapper().querySelectorAll('.canvases canvas')) {
        const r = c.getBoundingClientRect()
        if (r.right < hostRect.left || r.left > hostRect.left + w) continue
        ctx.drawImage(c, r.left - hostRect.left, r.top - hostRect.top, r.width, r.height)
      }
      const t1 = v.t0 + w / v.pps
      for (const s of current()) {
        if (s.end < v.t0 || s.start > t1) continue
        const a = x(s.start); const b = x(s.end)
        ctx.fillStyle = s.label === P.VOCAL ? color('--vocal-soft', 'rgba(240,140,0,.28)') : color('--nonvocal-soft', 'rgba(92,124,250,.14)')
        ctx.fillRect(a, 0, b - a, h)
        ctx.fillStyle = s.label === P.VOCAL ? color('--vocal', '#f08c00') : color('--nonvocal', '#5c7cfa')
        ctx.fillRect(a, 0, b - a, 6)
        ctx.fillStyle = '#1d2330'
        ctx.fillRect(a, 0, 1, h)
        const text = labelFor(s.label, (s.end - s.start) * v.pps)
        if (text) { ctx.font = LABEL_FONT; ctx.fillText(text, a + 4, 18) }
      }
    } else if (part === 'ruler') {
      const { ticks } = T.rulerTicks(Math.max(0, v.t0), Math.min(state.duration, v.t0 + w / v.pps), v.pps)
      ctx.fillStyle = '#667085'; ctx.font = '11px system-ui, sans-serif'
      for (const k of ticks) {
        ctx.fillRect(x(k.t), y, 1, k.major ? 8 : 4)
        if (k.major) ctx.fillText(k.label, x(k.t) + 3, y + 17)
      }
    } else {
      const src = { ref: $('ref-canvas'), prob: $('prob-lane'), spec: $('spec-canvas') }[part]
      const r = src.getBoundingClientRect()
      ctx.drawImage(src, r.left - hostRect.left, y, r.width, h)
      if (part === 'spec') {
        ctx.fillStyle = '#fff'; ctx.font = '10px system-ui, sans-serif'
        for (const k of T.freqTicks(state.spec.header, SPEC_H)) ctx.fillText(k.label, 3, y + k.y + 3)
      }
    }
    y += h
  }
  const blob = await new Promise((resolve) => out.toBlob(resolve, 'image/png'))
  const a = document.createElement('a')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a file name must not hold
  const base = String(cfg.song.title || 'song').replace(/[\x00-\x1f\x7f/\\:*?"<>|]+/g, ' ').trim().slice(0, 100) || 'song'
  a.download = `${base} ${v.t0.toFixed(1)}-${(v.t0 + w / v.pps).toFixed(1)} s.png`
  a.href = URL.createObjectURL(blob)
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}
$('btn-png').addEventListener('click', () => { $('btn-png').closest('details').open = false; exportView() })
