// The lanes under the waveform that share its time axis: the time ruler, the reference revision, and
// the lines that follow the play cursor and the mouse across them. (The probability lane is in
// curves.js, the spectrogram in spectrogram.js.) Each draws with the one mapping of waveform.js.
import { $, root, color, REF_H } from './page.js'
import * as P from './partition.js'
import { state, current } from './state.js'
import * as T from './timeaxis.js'
import { ws, clientXOf, timeAtClientX, laneView } from './waveform.js'

/** Put a vertical line (the cursor's or the mouse's) at time `t` across the lanes. */
export function placeLaneLine (el, t) {
  if (!el) return
  const host = $('sublanes')
  const x = clientXOf(t) - host.getBoundingClientRect().left
  el.hidden = !(x >= 0 && x <= host.clientWidth)
  el.style.transform = `translateX(${x}px)`
}

/** A cleared 2-d context for `canvas` sized w x h CSS px at the screen's pixel ratio. */
export function canvasFor (canvas, w, h) {
  const dpr = window.devicePixelRatio || 1
  const W = Math.max(1, Math.round(w * dpr))
  const H = Math.max(1, Math.round(h * dpr))
  if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H }
  const ctx = canvas.getContext('2d')
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
  ctx.clearRect(0, 0, w, h)
  return ctx
}

/** The time ruler: DOM tick labels placed with the one mapping, rebuilt on every scroll / zoom. */
export function drawRuler () {
  const el = $('ruler')
  if (!state.duration) return
  const v = laneView(el)
  const { ticks, step } = T.rulerTicks(Math.max(0, v.t0), Math.min(state.duration, v.t1), v.pps)
  const frag = document.createDocumentFragment()
  for (const k of ticks) {
    const x = v.x(k.t)
    const tick = document.createElement('i')
    tick.className = k.major ? 'tk major' : 'tk'
    tick.style.transform = `translateX(${x}px)`
    frag.appendChild(tick)
    if (k.major) {
      const lab = document.createElement('span')
      lab.className = 'rl'
      lab.dataset.t = k.t
      lab.textContent = k.label
      lab.style.transform = `translateX(${x}px)`
      frag.appendChild(lab)
    }
  }
  el.replaceChildren(frag)
  el.dataset.step = step
}

/** The reference revision lane, with a red band where the working partition says otherwise. */
export function drawRef () {
  const lane = $('ref-lane')
  const ref = state.ref
  lane.hidden = !ref
  if (!ref) return
  const v = laneView(lane)
  const ctx = canvasFor($('ref-canvas'), v.w, REF_H)
  const segs = ref.segs
  const vocal = color('--vocal', '#f08c00')
  const nonvocal = color('--nonvocal', '#5c7cfa')
  for (const s of segs) {
    if (s.end < v.t0 || s.start > v.t1) continue
    const a = v.x(s.start)
    const b = v.x(s.end)
    ctx.fillStyle = s.label === P.VOCAL ? vocal : nonvocal
    ctx.globalAlpha = s.label === P.VOCAL ? 0.8 : 0.45
    ctx.fillRect(a, 2, Math.max(1, b - a), REF_H - 7)
  }
  ctx.globalAlpha = 1
  ctx.fillStyle = '#e03131'
  const work = current()
  for (let px = 0; px < v.w; px++) {
    const t = v.t0 + (px + 0.5) / v.pps
    if (t < 0 || t > state.duration) continue
    if (P.labelAt(work, t) !== P.labelAt(segs, t)) ctx.fillRect(px, REF_H - 4, 1, 4)
  }
}

export const drawCursorLine = () => placeLaneLine($('lane-cursor'), ws.getCurrentTime())

// Hover: the readout and a line across the lanes follow the mouse over the waveform and the lanes.
function hoverAt (ev) {
  const t = timeAtClientX(ev.clientX)
  $('t-hover').textContent = T.fmtTime(t, 3)
  root.dataset.hover = t.toFixed(4)
  placeLaneLine($('lane-hover'), t)
}
for (const id of ['waveform', 'sublanes']) {
  $(id).addEventListener('pointermove', hoverAt)
  $(id).addEventListener('pointerleave', () => { $('t-hover').textContent = '–'; $('lane-hover').hidden = true })
}
$('sublanes').addEventListener('click', (ev) => { // click a lane to put the cursor there
  if (ev.target.closest('select, input, label')) return
  ws.setTime(timeAtClientX(ev.clientX))
})
