// The segment layer: the vocal / non-vocal partition drawn over the waveform, with boundary handles
// and comment pins. It lives inside wavesurfer's wrapper (shadow DOM), so it scrolls and zooms with
// it. Editing with the mouse: drag a boundary, drag across segments to paint one, click to select,
// double-click to flip a label.
import { $, root, color } from './page.js'
import * as P from './partition.js'
import { state, current, edit, select } from './state.js'
import { fmtTime as fmt } from './timeaxis.js'
import { renderInspector } from './inspector.js'
import { ws, pxPerSec, timeAtClientX } from './waveform.js'

const layer = document.createElement('div')
layer.className = 'seg-layer'
layer.setAttribute('part', 'seg-layer')
const shadowStyle = document.createElement('style')
shadowStyle.textContent = `
.seg-layer { position: absolute; inset: 0; z-index: 3; pointer-events: none; }
.seg { position: absolute; top: 0; bottom: 0; pointer-events: auto; cursor: crosshair; border-top: 6px solid; box-sizing: border-box; overflow: hidden; }
.seg.vocal { background: ${color('--vocal-soft', 'rgba(240,140,0,.28)')}; border-top-color: ${color('--vocal', '#f08c00')}; }
.seg.non-vocal { background: ${color('--nonvocal-soft', 'rgba(92,124,250,.14)')}; border-top-color: ${color('--nonvocal', '#5c7cfa')}; }
.seg.selected { box-shadow: inset 0 0 0 2px #1d2330; }
.seg .lab { position: absolute; top: 2px; left: 4px; font: 600 10px system-ui, sans-serif; color: #1d2330; opacity: .75; white-space: nowrap; pointer-events: none; }
.bnd { position: absolute; top: 0; bottom: 0; width: 11px; margin-left: -5px; cursor: ew-resize; pointer-events: auto; z-index: 2; touch-action: none; }
.bnd::after { content: ''; position: absolute; left: 5px; top: 0; bottom: 0; width: 1px; background: #1d2330; opacity: .55; }
.bnd:hover::after, .bnd.selected::after { width: 3px; left: 4px; opacity: 1; background: #e8590c; }
.bnd.selected::before { content: ''; position: absolute; left: 0; top: 0; border: 5px solid transparent; border-top-color: #e8590c; }
.pin { position: absolute; top: 8px; width: 0; height: 0; border: 6px solid transparent; border-top-color: #7048e8; margin-left: -6px; pointer-events: auto; cursor: help; z-index: 4; }
.paint { position: absolute; top: 0; bottom: 0; z-index: 5; pointer-events: none; border: 2px dashed #1d2330; box-sizing: border-box; }
.paint.vocal { background: rgba(240,140,0,.35); } .paint.non-vocal { background: rgba(92,124,250,.30); }
`
export const LABEL_FONT = '600 10px system-ui, sans-serif'
const labelWidths = (() => {
  const ctx = document.createElement('canvas').getContext('2d')
  ctx.font = LABEL_FONT
  const w = (s) => ctx.measureText(s).width
  return { vocal: w('vocal'), 'non-vocal': w('non-vocal'), v: w('v'), nv: w('nv') }
})()

/** The label a segment `px` wide can show without running into its neighbour: full, short or none. */
export function labelFor (label, px) {
  const room = px - 8 // 4 px from the left edge, 4 px before the next segment
  if (room >= labelWidths[label]) return label
  const short = label === P.VOCAL ? 'v' : 'nv'
  return room >= labelWidths[short] ? short : ''
}

export function mountLayer () {
  const wrapper = ws.getWrapper()
  if (layer.parentNode !== wrapper) wrapper.appendChild(layer)
  const rootNode = wrapper.getRootNode()
  if (rootNode && rootNode !== document && !shadowStyle.isConnected) rootNode.appendChild(shadowStyle)
}

export function renderSegments () {
  mountLayer()
  const segs = current()
  const d = state.duration || 1
  const pps = pxPerSec()
  const frag = document.createDocumentFragment()
  const sel = state.sel
  segs.forEach((s, i) => {
    const el = document.createElement('div')
    el.className = `seg ${s.label}` + (sel && sel.kind === 'segment' && sel.index === i ? ' selected' : '')
    el.style.left = `${(s.start / d) * 100}%`
    el.style.width = `${((s.end - s.start) / d) * 100}%`
    el.dataset.index = i
    el.dataset.label = s.label
    el.title = `${s.label} ${fmt(s.start, 2)}–${fmt(s.end, 2)}`
    const text = labelFor(s.label, (s.end - s.start) * pps)
    if (text) {
      const lab = document.createElement('span')
      lab.className = 'lab'
      lab.textContent = text
      el.appendChild(lab)
    }
    frag.appendChild(el)
  })
  for (let b = 1; b < segs.length; b++) {
    const h = document.createElement('div')
    h.className = 'bnd' + (sel && sel.kind === 'boundary' && sel.index === b ? ' selected' : '')
    h.style.left = `${(segs[b].start / d) * 100}%`
    h.dataset.b = b
    h.title = `boundary ${fmt(segs[b].start, 3)} (drag; , . to nudge)`
    frag.appendChild(h)
  }
  for (const c of state.comments || []) {
    if (c.time == null) continue
    const pin = document.createElement('div')
    pin.className = 'pin'
    pin.style.left = `${(c.time / d) * 100}%`
    pin.title = `${c.author}: ${c.text}`
    frag.appendChild(pin)
  }
  if (state.paint && state.paint.moved) {
    const [a, b] = [Math.min(state.paint.t0, state.paint.t1), Math.max(state.paint.t0, state.paint.t1)]
    const p = document.createElement('div')
    p.className = `paint ${state.paint.label}`
    p.style.left = `${(a / d) * 100}%`
    p.style.width = `${((b - a) / d) * 100}%`
    frag.appendChild(p)
  }
  layer.replaceChildren(frag)
  root.dataset.segments = segs.length
}

// Press on a boundary handle: start dragging it.
layer.addEventListener('pointerdown', (ev) => {
  const h = ev.target.closest('.bnd')
  if (h) {
    ev.stopPropagation()
    ev.preventDefault()
    const b = +h.dataset.b
    state.drag = { b, start: current(), moved: false, pointerId: ev.pointerId }
    h.setPointerCapture(ev.pointerId)
    select({ kind: 'boundary', index: b })
  }
}, true)

// Drag across the waveform (from a segment, not a boundary): paint a segment of the chosen label.
layer.addEventListener('pointerdown', (ev) => {
  state.suppressClick = false // only the click that ends a drag (if the browser sends one) is swallowed
  if (ev.button !== 0 || !ev.target.closest('.seg') || state.drag) return
  const t = timeAtClientX(ev.clientX)
  state.paint = { x0: ev.clientX, t0: t, t1: t, moved: false, label: $('sel-paint').value, pointerId: ev.pointerId }
})

layer.addEventListener('pointermove', (ev) => {
  const dr = state.drag
  if (dr) {
    let t = timeAtClientX(ev.clientX)
    if (!ev.altKey) t = P.snapTime(t)
    const next = P.moveBoundary(dr.start, dr.b, t)
    dr.moved = next !== dr.start
    state.hist = { ...state.hist, present: next } // shown while dragging, recorded as one edit on release
    renderSegments()
    renderInspector()
    return
  }
  const pt = state.paint
  if (!pt || !(ev.buttons & 1)) return
  if (!pt.moved && Math.abs(ev.clientX - pt.x0) < 5) return
  if (!pt.moved) { pt.moved = true; try { layer.setPointerCapture(pt.pointerId) } catch { /* gone */ } }
  pt.t1 = timeAtClientX(ev.clientX)
  renderSegments()
})

function endDrag (ev) {
  const dr = state.drag
  if (dr) {
    state.drag = null
    const final = current()
    state.hist = { ...state.hist, present: dr.start }
    if (dr.moved) edit(final, { select: { kind: 'boundary', index: dr.b } })
    else renderSegments()
    return
  }
  const pt = state.paint
  if (!pt) return
  state.paint = null
  if (!pt.moved) return
  state.suppressClick = true
  const snap = (t) => (ev && ev.altKey ? t : P.snapTime(t))
  const a = snap(Math.min(pt.t0, pt.t1))
  const b = snap(Math.max(pt.t0, pt.t1))
  const next = P.paint(current(), a, b, pt.label)
  if (next === current()) { renderSegments(); return }
  edit(next, { select: { kind: 'segment', index: P.segmentAt(next, (a + b) / 2) } })
}
layer.addEventListener('pointerup', endDrag)
layer.addEventListener('pointercancel', () => { state.paint = null; endDrag() })

layer.addEventListener('click', (ev) => {
  if (state.suppressClick) { state.suppressClick = false; ev.stopPropagation(); return } // a drag, not a click
  if (ev.target.closest('.bnd')) { ev.stopPropagation(); return }
  const seg = ev.target.closest('.seg')
  if (seg) select({ kind: 'segment', index: +seg.dataset.index })
})

layer.addEventListener('dblclick', (ev) => {
  const seg = ev.target.closest('.seg')
  if (seg) edit(P.toggle(current(), +seg.dataset.index), { select: { kind: 'segment', index: +seg.dataset.index } })
})
