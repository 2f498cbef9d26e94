// The annotation editor page: wavesurfer 8.0.1 waveform + a vocal / non-vocal partition layer, and
// lanes under it that share the waveform's time axis: the time ruler, a reference revision, up to
// three model probability curves and the server-computed spectrogram.
//
// Pure logic lives in partition.js and timeaxis.js (unit-tested); this module is the DOM, the network
// and the keyboard. The waveform comes from precomputed peaks (no decode); the <audio> element
// streams the song with HTTP Range; the spectrogram comes in tiles from the server (no decode).
//
// One mapping between time and pixels for everything: wavesurfer's wrapper (the full scroll width of
// the waveform) is `duration` seconds wide, so x(t) = wrapper.left + t / duration * wrapper.width in
// client coordinates, at every zoom and scroll position; every lane draws with it.
import WaveSurfer from '../../vendor/wavesurfer/8.0.1/wavesurfer.esm.js'
import MinimapPlugin from '../../vendor/wavesurfer/8.0.1/plugins/minimap.esm.js'
import ZoomPlugin from '../../vendor/wavesurfer/8.0.1/plugins/zoom.esm.js'
import HoverPlugin from '../../vendor/wavesurfer/8.0.1/plugins/hover.esm.js'
import * as P from './partition.js'
import * as T from './timeaxis.js'
import { api, apiBytes } from '../api.js'

const cfg = JSON.parse(document.getElementById('editor-config').textContent)
const $ = (id) => document.getElementById(id)
const root = $('editor')
const css = getComputedStyle(document.documentElement)
const color = (name, fallback) => (css.getPropertyValue(name) || fallback).trim()
const MAX_PX_PER_SEC = 5000 // 50 px per 10 ms frame
const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2]
const PROB_H = 56
const REF_H = 18
const SPEC_H = 128
const CURVES = {
  active: { stroke: color('--vocal', '#f08c00'), fill: color('--vocal-soft', 'rgba(240,140,0,.28)') },
  previous: { stroke: '#7048e8', dash: [5, 3] },
  other: { stroke: '#0c8599', dash: [] }
}
const fmt = T.fmtTime

const state = {
  duration: +cfg.song.duration || 0,
  base: null, // the revision the edits are based on (null id = the song has none)
  baseSegs: [],
  hist: P.history([]),
  sel: null, // {kind: 'segment' | 'boundary', index}
  pred: null, // the active model's curve: {probs, hop, threshold, uncertain, disagree, model}
  curves: { active: null, previous: null, other: null }, // {probs, hop, threshold, model, on}
  layers: [], // the song's predictions (GET predictions)
  ref: null, // reference revision {id, number, state, segments_by, segments}
  drag: null,
  paint: null,
  saving: false,
  conflict: null,
  minPx: 0,
  spec: { on: false, header: null, error: null, tiles: new Map(), pending: new Map(), drawn: 0 }
}
window.__editor = state // for tests and the benchmark

// ------------------------------------------------------------------------------------ network
const etagOf = (rev) => (rev && rev.id ? `"${rev.id}"` : '"none"')

// ------------------------------------------------------------------------------------ drafts
const draftPrefix = `singscope:draft:${cfg.song.id}:`
const draftKey = (rev) => draftPrefix + (rev && rev.id ? rev.id : 'none')

function draftStore () {
  try {
    if (isDirty()) localStorage.setItem(draftKey(state.base), JSON.stringify({ segments: current(), at: Date.now(), base: state.base && state.base.id }))
    else localStorage.removeItem(draftKey(state.base))
  } catch (e) { /* storage full or disabled: nothing to do */ }
}

function draftsOfSong () {
  const out = []
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i)
    if (k && k.startsWith(draftPrefix)) {
      try { out.push({ key: k, ...JSON.parse(localStorage.getItem(k)) }) } catch (e) { localStorage.removeItem(k) }
    }
  }
  return out
}

// ------------------------------------------------------------------------------------ state
const current = () => state.hist.present
const isDirty = () => state.base !== null && !P.samePartition(current(), state.baseSegs)

function edit (next, { select } = {}) {
  if (next === current()) return
  state.hist = P.push(state.hist, next)
  if (select !== undefined) state.sel = select
  changed()
}

function changed () {
  clampSelection()
  renderSegments()
  renderInspector()
  recomputeDisagreement()
  scheduleLanes(false, true)
  renderStatus()
  draftStore()
}

function clampSelection () {
  const s = state.sel
  if (!s) return
  const n = current().length
  if (s.kind === 'segment' && s.index >= n) state.sel = { kind: 'segment', index: n - 1 }
  if (s.kind === 'boundary' && (s.index < 1 || s.index >= n)) state.sel = null
}

function selectedSegment () {
  const s = state.sel
  if (!s) return P.segmentAt(current(), ws.getCurrentTime())
  return s.kind === 'segment' ? s.index : s.index - 1
}

function selectedBoundary () {
  const s = state.sel
  if (s && s.kind === 'boundary') return s.index
  return -1
}

function setBase (rev) {
  state.base = rev
  state.baseSegs = P.fromSegments(rev.segments, state.duration)
}

// ------------------------------------------------------------------------------------ wavesurfer
const wsHeight = 150
const ws = WaveSurfer.create({
  container: '#waveform',
  height: wsHeight,
  waveColor: '#4a5568',
  progressColor: '#1d2330',
  cursorColor: '#e03131',
  cursorWidth: 2,
  normalize: true,
  minPxPerSec: 0,
  autoScroll: true,
  autoCenter: true,
  dragToSeek: false,
  hideScrollbar: false,
  plugins: [
    MinimapPlugin.create({ container: '#minimap', height: 34, waveColor: '#adb5bd', progressColor: '#495057', overlayColor: 'rgba(59,91,219,.15)', cursorColor: '#e03131' }),
    ZoomPlugin.create({ scale: 0.25, maxZoom: MAX_PX_PER_SEC, exponentialZooming: true }),
    HoverPlugin.create({ lineColor: '#3b5bdb', lineWidth: 1, labelBackground: '#1d2330', labelColor: '#fff', labelSize: '11px', formatTimeCallback: (t) => fmt(t, 3) })
  ]
})
window.__ws = ws

// The one time <-> pixel mapping (client coordinates), for the waveform and every lane.
function wrapperRect () { return ws.getWrapper().getBoundingClientRect() }
function pxPerSec () {
  // the wrapper's box, not its scrollWidth: a hover label or boundary handle at the end overflows it
  const w = ws.getWrapper().getBoundingClientRect().width || ws.getWidth()
  return w / (state.duration || 1)
}
function clientXOf (t, rect = wrapperRect()) { return rect.left + (t / (state.duration || 1)) * rect.width }
function timeAtClientX (x, rect = wrapperRect()) {
  return Math.max(0, Math.min(state.duration, ((x - rect.left) / (rect.width || 1)) * state.duration))
}
/** What a lane element shows: {t0, t1, pps, x(t) in lane px, w, h}. */
function laneView (el) {
  const wr = wrapperRect()
  const lr = el.getBoundingClientRect()
  const pps = wr.width / (state.duration || 1)
  const t0 = (lr.left - wr.left) / pps
  return { t0, t1: t0 + lr.width / pps, pps, w: lr.width, h: lr.height, x: (t) => wr.left + t * pps - lr.left }
}
window.__editorMap = { clientXOf, timeAtClientX, pxPerSec } // the same functions the lanes use (tests)

function visibleRange () {
  const pps = pxPerSec()
  const start = ws.getScroll() / pps
  return [start, start + ws.getWidth() / pps]
}

function zoomTo (px) {
  const fit = ws.getWidth() / (state.duration || 1)
  px = Math.max(fit, Math.min(MAX_PX_PER_SEC, px))
  const t = ws.getCurrentTime()
  ws.zoom(px <= fit * 1.0001 ? 0 : px)
  state.minPx = px
  ws.setScrollTime(Math.max(0, t - (ws.getWidth() / px) / 2))
}

ws.on('zoom', (px) => { state.minPx = px; $('t-zoom').textContent = zoomLabel(); scheduleLanes(true) })
ws.on('scroll', () => scheduleLanes())
// wavesurfer's 'scroll' event can skip the last step of a scroll: the lanes also follow the element
ws.getWrapper().parentElement.addEventListener('scroll', () => scheduleLanes(), { passive: true })
ws.on('resize', () => scheduleLanes(true))
ws.on('redraw', () => scheduleLanes(true))
ws.on('timeupdate', (t) => {
  $('t-cursor').textContent = fmt(t, 3)
  loopCheck(t)
  placeLaneLine($('lane-cursor'), t)
})
ws.on('play', () => { $('btn-play').textContent = '❚❚ Pause' })
ws.on('pause', () => { $('btn-play').textContent = '▶ Play' })
ws.on('finish', () => { if ($('chk-loop').checked && !state.playRange) ws.play(0) })

function zoomLabel () {
  const px = pxPerSec()
  return px >= 100 ? `${(px / 100).toFixed(1)} px/frame` : `${px.toFixed(1)} px/s`
}

// ------------------------------------------------------------------------------------ segment layer
// The layer lives inside wavesurfer's wrapper (shadow DOM), so it scrolls and zooms with it.
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
const LABEL_FONT = '600 10px system-ui, sans-serif'
const labelWidths = (() => {
  const ctx = document.createElement('canvas').getContext('2d')
  ctx.font = LABEL_FONT
  const w = (s) => ctx.measureText(s).width
  return { vocal: w('vocal'), 'non-vocal': w('non-vocal'), v: w('v'), nv: w('nv') }
})()

/** The label a segment `px` wide can show without running into its neighbour: full, short or none. */
function labelFor (label, px) {
  const room = px - 8 // 4 px from the left edge, 4 px before the next segment
  if (room >= labelWidths[label]) return label
  const short = label === P.VOCAL ? 'v' : 'nv'
  return room >= labelWidths[short] ? short : ''
}

function mountLayer () {
  const wrapper = ws.getWrapper()
  if (layer.parentNode !== wrapper) wrapper.appendChild(layer)
  const rootNode = wrapper.getRootNode()
  if (rootNode && rootNode !== document && !shadowStyle.isConnected) rootNode.appendChild(shadowStyle)
}

function renderSegments () {
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

layer.addEventListener('pointerdown', (ev) => {
  const h = ev.target.closest('.bnd')
  if (h) {
    ev.stopPropagation()
    ev.preventDefault()
    const b = +h.dataset.b
    state.sel = { kind: 'boundary', index: b }
    state.drag = { b, start: current(), moved: false, pointerId: ev.pointerId }
    h.setPointerCapture(ev.pointerId)
    renderSegments()
    renderInspector()
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
    state.hist = { ...state.hist, present: next }
    renderSegments()
    renderInspector()
    return
  }
  const pt = state.paint
  if (!pt || !(ev.buttons & 1)) return
  if (!pt.moved && Math.abs(ev.clientX - pt.x0) < 5) return
  if (!pt.moved) { pt.moved = true; try { layer.setPointerCapture(pt.pointerId) } catch (e) { /* gone */ } }
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
  if (seg) {
    state.sel = { kind: 'segment', index: +seg.dataset.index }
    renderSegments()
    renderInspector()
  }
})

layer.addEventListener('dblclick', (ev) => {
  const seg = ev.target.closest('.seg')
  if (seg) edit(P.toggle(current(), +seg.dataset.index), { select: { kind: 'segment', index: +seg.dataset.index } })
})

// ------------------------------------------------------------------------------------ lanes
let lanesFrame = 0
let lanesFull = false
let lanesView = false
/** Redraw the lanes at the next frame (coalesces scroll / zoom / edit bursts). An edit (`editOnly`)
 * changes only what depends on the partition (reference differences, disagreement marks); a scroll
 * or zoom moves everything, and `relabel` also re-fits the segment labels to the new px/s. */
function scheduleLanes (relabel = false, editOnly = false) {
  if (relabel) lanesFull = true
  if (!editOnly) lanesView = true
  if (lanesFrame) return
  lanesFrame = requestAnimationFrame(() => {
    lanesFrame = 0
    if (lanesFull) { lanesFull = false; renderSegments() } // labels depend on px/s
    const view = lanesView
    lanesView = false
    if (view) drawRuler()
    drawRef()
    drawProb()
    if (view) drawSpec()
    placeLaneLine($('lane-cursor'), ws.getCurrentTime())
  })
}

function placeLaneLine (el, t) {
  if (!el) return
  const host = $('sublanes')
  const x = clientXOf(t) - host.getBoundingClientRect().left
  el.hidden = !(x >= 0 && x <= host.clientWidth)
  el.style.transform = `translateX(${x}px)`
}

function canvasFor (canvas, w, h) {
  const dpr = window.devicePixelRatio || 1
  const W = Math.max(1, Math.round(w * dpr))
  const H = Math.max(1, Math.round(h * dpr))
  if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H }
  const ctx = canvas.getContext('2d')
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
  ctx.clearRect(0, 0, w, h)
  return ctx
}

// -- the time ruler: DOM tick labels placed with the one mapping, rebuilt on every scroll/zoom.
function drawRuler () {
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

// -- the reference revision lane
function drawRef () {
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
  // where the working partition says otherwise: a red band under the reference
  ctx.fillStyle = '#e03131'
  const work = current()
  for (let px = 0; px < v.w; px++) {
    const t = v.t0 + (px + 0.5) / v.pps
    if (t < 0 || t > state.duration) continue
    if (P.labelAt(work, t) !== P.labelAt(segs, t)) ctx.fillRect(px, REF_H - 4, 1, 4)
  }
}

// -- the probability lane: up to three curves (active, previous, another model)
function recomputeDisagreement () {
  if (!state.pred) return
  const p = state.pred
  p.disagree = P.disagreementSpans(current(), p.probs, p.hop, p.threshold)
}

function drawProb () {
  const c = $('prob-lane')
  const v = laneView(c)
  const ctx = canvasFor(c, v.w, PROB_H)
  const H = PROB_H
  if (!state.duration) return
  const yOf = (p) => H - 6 - p * (H - 10)
  const active = state.curves.active
  if (active && active.on) {
    const { uncertain, disagree } = state.pred
    ctx.fillStyle = 'rgba(250, 176, 5, .30)'
    for (const s of uncertain) if (s.end >= v.t0 && s.start <= v.t1) ctx.fillRect(v.x(s.start), 0, Math.max(1, v.x(s.end) - v.x(s.start)), H)
    ctx.fillStyle = 'rgba(224, 49, 49, .75)'
    for (const s of disagree) if (s.end >= v.t0 && s.start <= v.t1) ctx.fillRect(v.x(s.start), H - 5, Math.max(1, v.x(s.end) - v.x(s.start)), 5)
  }
  for (const role of ['other', 'previous', 'active']) {
    const curve = state.curves[role]
    if (!curve || !curve.on) continue
    const { probs, hop } = curve
    ctx.beginPath()
    let started = false
    for (let px = 0; px < v.w; px++) {
      const ta = v.t0 + px / v.pps
      const tb = v.t0 + (px + 1) / v.pps
      const a = Math.max(0, Math.floor(ta / hop))
      const b = Math.min(probs.length, Math.max(a + 1, Math.ceil(tb / hop)))
      if (a >= probs.length || tb < 0) continue
      let m = 0
      for (let i = a; i < b; i++) if (probs[i] > m) m = probs[i]
      if (!started) { ctx.moveTo(px, role === 'active' ? H : yOf(m)); started = true }
      ctx.lineTo(px, yOf(m))
      if (role === 'active') ctx.lineTo(px + 1, yOf(m))
    }
    const style = CURVES[role]
    if (role === 'active' && started) {
      ctx.lineTo(Math.min(v.w, v.x(probs.length * hop)), H)
      ctx.closePath()
      ctx.fillStyle = style.fill
      ctx.fill()
    }
    ctx.strokeStyle = style.stroke
    ctx.lineWidth = role === 'active' ? 1 : 1.5
    ctx.setLineDash(style.dash || [])
    ctx.stroke()
    ctx.setLineDash([])
  }
  if (active && active.on) {
    const ty = yOf(active.threshold)
    ctx.setLineDash([4, 3])
    ctx.strokeStyle = '#1d2330'
    ctx.beginPath(); ctx.moveTo(0, ty); ctx.lineTo(v.w, ty); ctx.stroke()
    ctx.setLineDash([])
  }
}

function decodeProbs (d) {
  return d.encoding === 'list' ? Float32Array.from(d.probabilities) : P.decodeFloat16Base64(d.probabilities)
}

async function loadCurve (role, modelId) {
  if (modelId == null) { state.curves[role] = null; renderCurveLegend(); scheduleLanes(); return }
  let d
  try { d = await api(`${cfg.api.prediction}?model=${encodeURIComponent(modelId)}`) } catch (err) { banner(esc(err.message), 'error', 4000); return }
  state.curves[role] = { probs: decodeProbs(d), hop: d.hop, threshold: d.threshold, model: d.model, on: true }
  if (role === 'active') {
    const probs = state.curves.active.probs
    // The server's unsure regions, most uncertain first (detector.priority.region_priorities): 'u' visits
    // them in that order; they are drawn in time order. Older servers: the same spans computed here.
    const ranked = Array.isArray(d.unsure_regions) ? d.unsure_regions : P.uncertainSpans(probs, d.hop, d.threshold)
    state.pred = {
      probs, hop: d.hop, threshold: d.threshold, ranked, unsureNext: 0,
      uncertain: [...ranked].sort((a, b) => a.start - b.start), disagree: [], model: d.model
    }
    recomputeDisagreement()
  }
  renderCurveLegend()
  renderSegments()
  scheduleLanes()
}

function renderCurveLegend () {
  const names = []
  for (const role of ['active', 'previous', 'other']) {
    const c = state.curves[role]
    if (c && c.on) names.push(`${c.model.name}${role === 'active' ? ' (active)' : role === 'previous' ? ' (previous)' : ''}`)
  }
  const a = state.curves.active
  $('prob-legend').textContent = names.length
    ? `p(singing): ${names.join(' · ')}${a && a.on ? ` · threshold ${a.threshold.toFixed(2)} · u: next unsure (most uncertain first) · d: next disagreement` : ''}`
    : 'no model prediction yet'
  root.dataset.curves = names.length
}

async function loadLayers () {
  let page
  try { page = await api(cfg.api.predictions) } catch { return }
  state.layers = page.results
  const active = state.layers.find((l) => l.role === 'active')
  const previous = state.layers.find((l) => l.role === 'previous')
  $('curve-active-name').textContent = active ? `${active.model.name} (active)` : 'no active-model prediction'
  $('chk-curve-active').disabled = !active
  $('curve-previous-name').textContent = previous ? `${previous.model.name} (previous)` : 'no previous model'
  $('chk-curve-previous').disabled = !previous
  const sel = $('sel-curve-other')
  for (const l of state.layers) {
    if (l === active || l === previous) continue
    const o = document.createElement('option')
    o.value = l.model.id
    o.textContent = l.model.name
    sel.appendChild(o)
  }
  sel.disabled = sel.options.length < 2
  if (active) await loadCurve('active', active.model.id)
  // ?compare=<model id> (links from a training job: "what the new model changed") draws that model's
  // curve beside the active one.
  const compare = new URLSearchParams(window.location.search).get('compare')
  const other = compare && state.layers.find((l) => String(l.model.id) === compare && l !== active)
  if (other && other === previous) {
    $('chk-curve-previous').checked = true
    await loadCurve('previous', other.model.id)
  } else if (other) {
    sel.value = String(other.model.id)
    await loadCurve('other', other.model.id)
  }
}

$('chk-curve-active').addEventListener('change', (ev) => {
  if (state.curves.active) { state.curves.active.on = ev.target.checked; renderCurveLegend(); scheduleLanes() }
})
$('chk-curve-previous').addEventListener('change', (ev) => {
  const previous = state.layers.find((l) => l.role === 'previous')
  if (!ev.target.checked) { state.curves.previous = null; renderCurveLegend(); scheduleLanes() } else if (previous) loadCurve('previous', previous.model.id)
})
$('sel-curve-other').addEventListener('change', (ev) => loadCurve('other', ev.target.value || null))

// -- the spectrogram lane: tiles of the server's log-mel pyramid, at the level that fits the zoom
const MAGMA = (() => {
  const stops = [[0, 0, 0, 4], [0.13, 28, 16, 68], [0.25, 79, 18, 123], [0.38, 129, 37, 129], [0.5, 181, 54, 122],
    [0.63, 229, 80, 100], [0.75, 251, 135, 97], [0.88, 254, 194, 135], [1, 252, 253, 191]]
  const lut = new Uint8Array(256 * 3)
  for (let i = 0; i < 256; i++) {
    const x = i / 255
    let k = 0
    while (k < stops.length - 2 && x > stops[k + 1][0]) k++
    const [x0, r0, g0, b0] = stops[k]
    const [x1, r1, g1, b1] = stops[k + 1]
    const f = (x - x0) / (x1 - x0)
    lut[3 * i] = r0 + f * (r1 - r0); lut[3 * i + 1] = g0 + f * (g1 - g0); lut[3 * i + 2] = b0 + f * (b1 - b0)
  }
  return lut
})()

function specStatus (text) {
  const el = $('spec-status')
  el.textContent = text
  el.hidden = !text
}

async function toggleSpectrogram (on) {
  const sp = state.spec
  sp.on = on
  $('chk-spec').checked = on
  $('spectrogram').hidden = !on
  if (!on) return
  if (!sp.header && !sp.error) {
    specStatus('Loading the spectrogram…')
    sp.t0 = performance.now()
    try {
      sp.header = await api(cfg.api.spectrogram)
    } catch (err) {
      sp.error = err.message
      specStatus(err.status === 404 || err.status === 409 ? err.message : `The spectrogram could not be loaded: ${err.message}`)
      root.dataset.spec = 'none'
      return
    }
    drawSpecAxis()
  }
  scheduleLanes()
}
$('chk-spec').addEventListener('change', (ev) => toggleSpectrogram(ev.target.checked))

function drawSpecAxis () {
  const h = state.spec.header
  const axis = $('spec-axis')
  const frag = document.createDocumentFragment()
  for (const k of T.freqTicks(h, SPEC_H)) {
    const lab = document.createElement('span')
    lab.className = 'hz'
    lab.dataset.hz = k.hz
    lab.textContent = k.label
    lab.style.transform = `translateY(${k.y}px)`
    frag.appendChild(lab)
  }
  axis.replaceChildren(frag)
}

function specTile (level, tile) {
  const sp = state.spec
  const key = `${level}:${tile}`
  if (sp.tiles.has(key)) return sp.tiles.get(key)
  if (!sp.pending.has(key)) {
    const url = sp.header.tile_url.replace('{level}', level).replace('{tile}', tile)
    sp.pending.set(key, apiBytes(url).then((buf) => {
      sp.tiles.set(key, new Uint8Array(buf))
      sp.pending.delete(key)
      scheduleLanes()
    }).catch((e) => { sp.pending.delete(key); specStatus(`A part of the spectrogram could not be loaded: ${e.message}`) }))
  }
  return null
}

/** Rows of `level` for frame index r (or null while its tile loads). */
function specRow (level, r) {
  const h = state.spec.header
  const tf = h.tile_frames
  const tile = specTile(level, Math.floor(r / tf))
  return tile ? { data: tile, offset: (r % tf) * h.n_mels } : null
}

function drawSpec () {
  const sp = state.spec
  if (!sp.on || !sp.header) return
  const h = sp.header
  const canvas = $('spec-canvas')
  const v = laneView(canvas)
  const dpr = window.devicePixelRatio || 1
  const W = Math.max(1, Math.round(v.w * dpr))
  const n = h.n_mels
  const level = T.specLevel(h, v.pps)
  const lv = h.levels[level]
  const img = new ImageData(W, n)
  let missing = 0
  for (let px = 0; px < W; px++) {
    const t = v.t0 + (px + 0.5) / dpr / v.pps
    if (t < 0 || t >= h.n_frames / h.frame_rate) continue
    let row = null
    for (let L = level; L < h.levels.length && !row; L++) { // a coarser level stands in while a tile loads
      const r = Math.min(h.levels[L].n_frames - 1, Math.floor(t * h.levels[L].frame_rate))
      row = specRow(L, r)
      if (!row && L === level) missing++
    }
    if (!row) continue
    for (let b = 0; b < n; b++) {
      const q = row.data[row.offset + b]
      const o = 4 * ((n - 1 - b) * W + px) // band 0 at the bottom
      img.data[o] = MAGMA[3 * q]; img.data[o + 1] = MAGMA[3 * q + 1]; img.data[o + 2] = MAGMA[3 * q + 2]; img.data[o + 3] = 255
    }
  }
  const off = sp.off || (sp.off = document.createElement('canvas'))
  off.width = W; off.height = n
  off.getContext('2d').putImageData(img, 0, 0)
  const ctx = canvasFor(canvas, v.w, SPEC_H)
  ctx.setTransform(1, 0, 0, 1, 0, 0)
  ctx.imageSmoothingEnabled = true
  ctx.drawImage(off, 0, 0, W, n, 0, 0, W, canvas.height)
  canvas.dataset.level = level
  canvas.dataset.rowsPerSecond = lv.frame_rate
  if (!missing) {
    specStatus('')
    if (!sp.drawn) {
      sp.drawn = performance.now()
      root.dataset.spec = 'drawn'
      window.__specReadyMs = sp.drawn - sp.t0
      document.dispatchEvent(new CustomEvent('editor:spectrogram'))
    }
  }
}

// -- hover: the readout and a line across the lanes follow the mouse over the waveform and lanes
function hoverAt (ev) {
  const t = timeAtClientX(ev.clientX)
  $('t-hover').textContent = fmt(t, 3)
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

// ------------------------------------------------------------------------------------ reference revision
async function setReference (revisionId) {
  if (!revisionId) { state.ref = null; root.dataset.ref = ''; scheduleLanes(); return }
  let rev
  try { rev = await api(`${cfg.api.revisions}/${revisionId}`) } catch (err) { banner(esc(err.message), 'error', 4000); return }
  state.ref = { ...rev, segs: P.fromSegments(rev.segments, state.duration) }
  $('ref-label').textContent = `r${rev.number} ${rev.state}${rev.segments_by ? ' · ' + rev.segments_by : ''}`
  $('sel-ref').value = String(rev.id)
  root.dataset.ref = String(rev.number)
  scheduleLanes()
}

function fillReferenceChoices () {
  const sel = $('sel-ref')
  const chosen = sel.value
  const opts = [['', 'none']]
  for (const v of state.revisions || []) opts.push([String(v.id), `r${v.number} ${v.state}${v.segments_by ? ' · ' + v.segments_by : ''}`])
  sel.replaceChildren(...opts.map(([value, text]) => { const o = document.createElement('option'); o.value = value; o.textContent = text; return o }))
  sel.value = opts.some(([value]) => value === chosen) ? chosen : ''
  if (!state.refChosen) { // the first time: the latest verified revision, if there is one
    state.refChosen = true
    const verified = (state.revisions || []).find((v) => v.state === 'verified')
    if (verified) setReference(verified.id)
  }
}
$('sel-ref').addEventListener('change', (ev) => setReference(ev.target.value))

// ------------------------------------------------------------------------------------ playback
function loopCheck (t) {
  const r = state.playRange
  if (!r || !ws.isPlaying()) return
  if (t >= r.end - 0.005) {
    if ($('chk-loop').checked) ws.setTime(r.start)
    else { ws.pause(); state.playRange = null }
  }
}

function playRange (start, end) {
  state.playRange = { start: Math.max(0, start), end: Math.min(state.duration, end) }
  ws.play(state.playRange.start)
}

function playSelected () {
  const k = selectedSegment()
  const s = current()[k]
  playRange(s.start, s.end)
}

function audition () {
  let b = selectedBoundary()
  if (b < 0) b = P.nearestBoundary(current(), ws.getCurrentTime())
  if (b < 0) return
  const t = current()[b].start
  playRange(t - 1, t + 1)
}

function setRate (rate) {
  rate = Math.max(0.5, Math.min(2, rate))
  ws.setPlaybackRate(rate, true)
  $('sel-rate').value = String(rate)
}

function playPause () {
  if (ws.isPlaying()) { ws.pause(); return }
  state.playRange = null
  ws.play()
}

// ------------------------------------------------------------------------------------ inspector
function renderInspector () {
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
  const start = $('sel-start').disabled ? segs[k].start : T.parseTime($('sel-start').value)
  const end = $('sel-end').disabled ? segs[k].end : T.parseTime($('sel-end').value)
  const problem = P.segmentTimesProblem(segs, k, start, end)
  $('sel-error').textContent = problem || ''
  if (problem) return // refused: nothing changes, nothing is recorded
  edit(P.setSegmentTimes(segs, k, start, end), { select: { kind: 'segment', index: k } })
  $('sel-start').blur(); $('sel-end').blur()
  renderInspector()
})
for (const id of ['sel-start', 'sel-end']) $(id).addEventListener('input', () => { $('sel-error').textContent = '' })

// ------------------------------------------------------------------------------------ status
function renderStatus () {
  const b = state.base
  const badge = $('rev-badge')
  if (b && b.id) {
    const by = b.segments_by || (b.origin && b.origin.startsWith('model:') ? 'the model' : '')
    badge.textContent = `revision ${b.number} · ${b.state} · ${b.origin}${by ? ' · by ' + by : ''}`
    badge.className = `badge ${b.state}`
    $('rev-reviewer').textContent = b.reviewed_by ? `${b.state === 'verified' ? 'verified' : 'reviewed'} by ${b.reviewed_by}` : ''
  } else {
    badge.textContent = 'no revision yet'
    badge.className = 'badge'
    $('rev-reviewer').textContent = ''
  }
  const dirty = isDirty()
  $('save-status').textContent = state.saving ? 'Saving…' : dirty ? `Unsaved changes (${state.hist.past.length} edit${state.hist.past.length === 1 ? '' : 's'})` : 'All changes saved'
  $('save-status').classList.toggle('unsaved', dirty)
  $('btn-save').disabled = state.saving || !dirty
  $('btn-undo').disabled = !state.hist.past.length
  $('btn-redo').disabled = !state.hist.future.length
  const verify = $('btn-verify')
  if (verify) {
    const refusal = b && b.verify_refusal
    verify.disabled = !!refusal
    verify.title = refusal || 'Verify the current revision'
    const note = $('verify-note')
    if (note) { note.textContent = refusal || ''; note.hidden = !refusal }
  }
  root.dataset.dirty = dirty ? '1' : '0'
  root.dataset.revision = b && b.id ? b.number : 0
}

function banner (html, kind = 'info', ms = 0) {
  const el = $('banner')
  el.className = `banner ${kind}`
  el.innerHTML = html
  el.hidden = false
  clearTimeout(banner.timer)
  if (ms) banner.timer = setTimeout(() => { el.hidden = true }, ms)
}

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]))

$('banner').addEventListener('click', (ev) => {
  const btn = ev.target.closest('[data-action="discard-draft"]')
  if (!btn) return
  localStorage.removeItem(draftKey(state.base))
  state.hist = P.history(state.baseSegs)
  changed()
  banner(`Your unsaved edits were discarded; this is revision ${state.base.number || 0} as saved.`, 'ok', 3000)
})

// Leaving with unsaved edits: the browser asks first (the draft is also kept in this browser).
window.addEventListener('beforeunload', (ev) => {
  if (!isDirty()) return
  ev.preventDefault()
  ev.returnValue = ''
})

// ------------------------------------------------------------------------------------ save & conflicts
async function save () {
  if (state.saving || !isDirty()) return
  state.saving = true
  renderStatus()
  const mine = current()
  let rev
  try {
    rev = await api(cfg.api.annotation, { method: 'PUT', body: { segments: P.normalize(mine) }, headers: { 'If-Match': etagOf(state.base) } })
  } catch (err) {
    state.saving = false
    if (err.status === 409) showConflict(err.data)
    else { renderStatus(); banner(esc(err.message), 'error') }
    return
  }
  state.saving = false
  localStorage.removeItem(draftKey(state.base))
  setBase(rev)
  // keep the undo history, but the saved partition is now the reference
  state.hist = { past: state.hist.past, present: P.fromSegments(rev.segments, state.duration), future: [] }
  changed()
  banner(`Saved revision ${rev.number}.`, 'ok', 2500)
  loadHistory()
}

function showConflict (data) {
  state.conflict = data.latest
  const l = data.latest
  const when = l && l.created_at ? new Date(l.created_at).toLocaleString() : ''
  $('conflict-text').innerHTML = l
    ? `<b>${esc(l.author || 'Someone')}</b> saved revision <b>${l.number}</b> (${esc(l.origin)}, ${esc(l.state)}, ${l.n_segments} segments, ${l.vocal_seconds.toFixed(1)} s vocal) at ${esc(when)}, after the revision your edits started from. ${esc(data.error)}`
    : esc(data.error)
  root.dataset.conflict = '1'
  const dlg = $('conflict')
  if (!dlg.open) dlg.showModal()
  renderStatus()
}

$('btn-reapply').addEventListener('click', () => {
  const latest = state.conflict
  if (!latest) return
  const merged = P.rebase(state.baseSegs, current(), P.fromSegments(latest.segments, state.duration), state.duration)
  localStorage.removeItem(draftKey(state.base))
  setBase(latest)
  state.hist = P.push(state.hist, merged)
  state.conflict = null
  root.dataset.conflict = '0'
  $('conflict').close()
  changed()
  refreshBase()
  banner(`Your edits were re-applied on top of revision ${latest.number} by ${esc(latest.author || 'someone')}. Check them and save.`, 'info')
})

$('btn-reload').addEventListener('click', () => {
  const latest = state.conflict
  if (!latest) return
  localStorage.removeItem(draftKey(state.base))
  setBase(latest)
  state.hist = P.history(P.fromSegments(latest.segments, state.duration))
  state.conflict = null
  root.dataset.conflict = '0'
  $('conflict').close()
  changed()
  refreshBase()
  banner(`Loaded revision ${latest.number}.`, 'ok', 2500)
})

$('btn-conflict-cancel').addEventListener('click', () => { $('conflict').close() })

/** The 409 body's revision lacks the per-user fields (verify_refusal): fetch the base again. */
async function refreshBase () {
  if (!state.base || !state.base.id) return
  let rev
  try { rev = await api(`${cfg.api.revisions}/${state.base.id}`) } catch { return }
  if (state.base && rev.id === state.base.id) { state.base = { ...state.base, ...rev }; renderStatus() }
}

// ------------------------------------------------------------------------------------ review, import
async function submitForReview () {
  if (isDirty()) { await save(); if (isDirty()) return }
  afterStateChange(api(cfg.api.submit, { method: 'POST', headers: { 'If-Match': etagOf(state.base) } }), 'Submitted for review.')
}

async function review (decision, comment = '', time = null) {
  if (isDirty() && decision !== 'comment') { banner('Save your edits before reviewing.', 'error'); return }
  const answer = api(cfg.api.review, {
    method: 'POST', body: { decision, comment, time }, headers: decision === 'comment' ? {} : { 'If-Match': etagOf(state.base) }
  })
  if (decision === 'comment') {
    try { await answer } catch (err) { banner(esc(err.message), 'error'); return }
    banner('Comment added.', 'ok', 2000); loadHistory(); return
  }
  afterStateChange(answer.then((data) => data.revision), decision === 'verify' ? 'Verified.' : 'Rejected: back to draft.')
}

async function afterStateChange (answer, message) {
  let rev
  try { rev = await answer } catch (err) {
    if (err.status === 409) showConflict(err.data)
    else banner(esc(err.message), 'error')
    return
  }
  localStorage.removeItem(draftKey(state.base))
  setBase(rev)
  changed()
  banner(esc(message), 'ok', 2500)
  loadHistory()
}

$('btn-submit').addEventListener('click', submitForReview)
if ($('btn-verify')) $('btn-verify').addEventListener('click', () => review('verify'))
if ($('btn-reject')) {
  $('btn-reject').addEventListener('click', () => { $('reject-text').value = ''; $('reject-dialog').showModal() })
  $('reject-dialog').addEventListener('close', () => {
    if ($('reject-dialog').returnValue !== 'ok') return
    review('reject', $('reject-text').value, $('reject-pin').checked ? +ws.getCurrentTime().toFixed(3) : null)
  })
}
$('comment-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const text = $('comment-text').value.trim()
  if (!text) return
  review('comment', text, $('comment-pin').checked ? +ws.getCurrentTime().toFixed(3) : null)
  $('comment-text').value = ''
})

$('import-file').addEventListener('change', async (ev) => {
  const file = ev.target.files[0]
  ev.target.value = ''
  if (!file) return
  if (isDirty() && !window.confirm('Importing replaces your unsaved edits. Continue?')) return
  const fd = new FormData()
  fd.append('file', file)
  let rev
  try { rev = await api(cfg.api.annotation, { method: 'POST', body: fd, headers: { 'If-Match': etagOf(state.base) } }) } catch (err) {
    if (err.status === 409) showConflict(err.data)
    else banner(esc(err.message), 'error')
    return
  }
  localStorage.removeItem(draftKey(state.base))
  setBase(rev)
  state.hist = P.history(P.fromSegments(rev.segments, state.duration))
  changed()
  banner(`Imported ${esc(file.name)} as revision ${rev.number}.`, 'ok', 3000)
  loadHistory()
})

// ------------------------------------------------------------------------------------ song details
if ($('btn-details')) {
  const form = $('details-form')
  $('btn-details').addEventListener('click', () => {
    $('in-title').value = cfg.song.title
    $('in-artist').value = cfg.song.artist || ''
    $('in-album').value = cfg.song.album || ''
    $('details-error').textContent = ''
    form.hidden = false
    $('in-title').focus()
  })
  $('btn-details-cancel').addEventListener('click', () => { form.hidden = true })
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const body = { title: $('in-title').value.trim(), artist: $('in-artist').value.trim(), album: $('in-album').value.trim() }
    let song
    try { song = await api(cfg.api.song, { method: 'PATCH', body }) } catch (err) { $('details-error').textContent = err.message; return }
    Object.assign(cfg.song, { title: song.title, artist: song.artist, album: song.album })
    $('song-title').textContent = song.title
    $('song-byline').textContent = [song.artist, song.album].filter(Boolean).map((s) => `· ${s}`).join(' ')
    document.title = `${song.title} · editor · Singscope`
    form.hidden = true
    banner('Saved the title, artist and album; exports are named after the title.', 'ok', 3000)
  })
}

// ------------------------------------------------------------------------------------ history & diff
let historySeq = 0
async function loadHistory () {
  // Saves, submits and the history key can each start a refresh: only the latest one renders.
  const seq = ++historySeq
  let page
  try { page = await api(cfg.api.revisions) } catch { return }
  if (seq !== historySeq) return
  const ticked = new Set([...document.querySelectorAll('#history-rows .pick:checked')].map((p) => +p.value))
  state.revisions = page.results
  state.comments = page.comments
  const rows = page.results.map((v) => `<tr data-id="${v.id}"${v.id === page.current ? ' class="current"' : ''}>
    <td><input type="checkbox" class="pick" value="${v.id}" aria-label="compare revision ${v.number}"></td>
    <td>${v.number}</td><td><span class="badge ${esc(v.state)}">${esc(v.state)}</span></td><td>${esc(v.origin)}</td>
    <td>${esc(v.segments_by || v.author || '–')}${v.reviewed_by ? ` <span class="muted">(reviewer ${esc(v.reviewed_by)})</span>` : ''}</td><td>${esc(new Date(v.created_at).toLocaleString())}</td><td class="num">${v.vocal_seconds.toFixed(1)}</td>
    <td><button class="link-dark load-rev" data-id="${v.id}" title="Put this revision's segments in the editor (as an edit)">use</button>
      <button class="link-dark ref-rev" data-id="${v.id}" title="Draw this revision under the waveform">reference</button></td></tr>`)
  $('history-rows').innerHTML = rows.join('') || '<tr><td colspan="8" class="muted">No revisions yet.</td></tr>'
  const picks = [...document.querySelectorAll('#history-rows .pick')]
  // Keep the revisions the user ticked across refreshes; tick the newest two the first time.
  if (ticked.size) picks.forEach((p) => { p.checked = ticked.has(+p.value) })
  else picks.slice(0, 2).forEach((p) => { p.checked = true })
  $('comments').innerHTML = page.comments.length
    ? page.comments.map((c) => `<li><b>${esc(c.author || '?')}</b> ${c.decision ? `<span class="badge ${c.decision === 'verified' ? 'verified' : 'failed'}">${esc(c.decision)}</span>` : ''}
        on r${c.revision_number}${c.time != null ? ` at <a href="#" class="seek" data-t="${c.time}">${fmt(c.time, 2)}</a>` : ''}: ${esc(c.text)}</li>`).join('')
    : '<li class="muted">No comments yet.</li>'
  fillReferenceChoices()
  renderSegments()
}

$('comments').addEventListener('click', (ev) => {
  const a = ev.target.closest('.seek')
  if (a) { ev.preventDefault(); ws.setTime(+a.dataset.t); ws.setScrollTime(Math.max(0, +a.dataset.t - 2)) }
})

$('history-rows').addEventListener('click', async (ev) => {
  const ref = ev.target.closest('.ref-rev')
  if (ref) { setReference(ref.dataset.id); return }
  const btn = ev.target.closest('.load-rev')
  if (!btn) return
  let rev
  try { rev = await api(`${cfg.api.revisions}/${btn.dataset.id}`) } catch { return }
  edit(P.fromSegments(rev.segments, state.duration))
  banner(`Revision ${rev.number} is in the editor as an unsaved edit.`, 'info', 3000)
})

$('btn-diff').addEventListener('click', async () => {
  const ids = [...document.querySelectorAll('#history-rows .pick:checked')].map((p) => +p.value).sort((a, b) => a - b)
  if (ids.length !== 2) { $('diff-out').textContent = 'Tick exactly two revisions.'; return }
  let d
  try { d = await api(`${cfg.api.diff}?from=${ids[0]}&to=${ids[1]}`) } catch (err) { $('diff-out').textContent = err.message || 'failed'; return }
  const moved = d.boundaries_moved.map((m) => `${fmt(m.from, 2)}→${fmt(m.to, 2)} (${m.delta > 0 ? '+' : ''}${(m.delta * 1000).toFixed(0)} ms)`)
  $('diff-out').innerHTML = `<p>From <b>r${d.from.number}</b> (${esc(d.from.author || d.from.origin)}) to <b>r${d.to.number}</b> by <b>${esc(d.to.author || d.to.origin)}</b>:
    <b class="diff-frames">${d.frames_changed}</b> of ${d.frames_total} frames changed (${d.seconds_changed} s; ${d.frames_to_vocal} to vocal, ${d.frames_to_non_vocal} to non-vocal).</p>
    <p>${d.boundaries_moved.length} boundaries moved${moved.length ? ': ' + esc(moved.slice(0, 12).join(', ')) + (moved.length > 12 ? '…' : '') : ''};
    ${d.boundaries_added.length} added, ${d.boundaries_removed.length} removed.</p>
    <ul class="spans">${d.spans.slice(0, 50).map((s) => `<li><a href="#" class="seek" data-t="${s.start}">${fmt(s.start, 2)}–${fmt(s.end, 2)}</a> → ${esc(s.to)}</li>`).join('')}</ul>`
})
$('diff-out').addEventListener('click', (ev) => {
  const a = ev.target.closest('.seek')
  if (a) { ev.preventDefault(); ws.setTime(+a.dataset.t); ws.setScrollTime(Math.max(0, +a.dataset.t - 1)) }
})

function toggleHistory () {
  $('history').hidden = !$('history').hidden
  if (!$('history').hidden) loadHistory()
}
$('btn-history').addEventListener('click', toggleHistory)
document.querySelectorAll('[data-close]').forEach((b) => b.addEventListener('click', () => { $(b.dataset.close).hidden = true }))

// ------------------------------------------------------------------------------------ export the view
/** The waveform, segments, ruler and lanes on screen, composed into one PNG (what you see). */
async function exportView () {
  const dpr = window.devicePixelRatio || 1
  const host = $('waveform')
  const hostRect = host.getBoundingClientRect()
  const wr = wrapperRect()
  const w = ws.getWidth()
  const v = { t0: (hostRect.left - wr.left) / (wr.width / state.duration), pps: wr.width / state.duration }
  const x = (t) => (t - v.t0) * v.pps
  const parts = [['wave', wsHeight], ['ruler', 22]]
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

// ------------------------------------------------------------------------------------ commands & keys
const cmd = {
  split: () => {
    const t = ws.getCurrentTime()
    const next = P.split(current(), t)
    edit(next, { select: { kind: 'boundary', index: P.segmentAt(next, t) } })
  },
  toggle: () => { const k = selectedSegment(); edit(P.toggle(current(), k), { select: { kind: 'segment', index: k } }) },
  setLabel: (label) => { const k = selectedSegment(); edit(P.setLabel(current(), k, label), { select: { kind: 'segment', index: k } }) },
  merge: () => { const k = selectedSegment(); edit(P.mergeNext(current(), k), { select: { kind: 'segment', index: k } }) },
  deleteBoundary: () => {
    const b = selectedBoundary()
    if (b > 0) edit(P.deleteBoundary(current(), b), { select: { kind: 'segment', index: b - 1 } })
  },
  nudge: (delta) => {
    let b = selectedBoundary()
    if (b < 0) { b = P.nearestBoundary(current(), ws.getCurrentTime()); if (b < 0) return }
    edit(P.nudgeBoundary(current(), b, delta), { select: { kind: 'boundary', index: b } })
  },
  snap: () => edit(P.snapAll(current())),
  undo: () => { state.hist = P.undo(state.hist); changed() },
  redo: () => { state.hist = P.redo(state.hist); changed() },
  selectBoundary: () => {
    const b = P.nearestBoundary(current(), ws.getCurrentTime())
    if (b > 0) { state.sel = { kind: 'boundary', index: b }; renderSegments(); renderInspector() }
  },
  nextSegment: (dir) => {
    const n = current().length
    const k = Math.max(0, Math.min(n - 1, selectedSegment() + dir))
    state.sel = { kind: 'segment', index: k }
    ws.setTime(current()[k].start)
    renderSegments(); renderInspector()
  },
  nextUnsure: () => {
    if (!state.pred) { banner('There is no model prediction for this song yet.', 'info', 2500); return }
    const ranked = state.pred.ranked
    if (!ranked.length) { banner('No uncertain spans.', 'info', 2000); return }
    const k = state.pred.unsureNext % ranked.length
    state.pred.unsureNext = k + 1
    const s = ranked[k]
    ws.setTime(s.start)
    const [t0, t1] = visibleRange()
    if (s.start < t0 || s.start > t1) ws.setScrollTime(Math.max(0, s.start - (t1 - t0) / 3))
    state.sel = { kind: 'segment', index: P.segmentAt(current(), s.start + 1e-3) }
    root.dataset.unsure = String(k + 1)
    banner(`Unsure region ${k + 1} of ${ranked.length}${s.uncertainty != null ? ` (uncertainty ${s.uncertainty.toFixed(2)})` : ''}: most uncertain first.`, 'info', 2000)
    renderSegments(); renderInspector()
  },
  jump: (spans, what) => {
    if (!state.pred) { banner('There is no model prediction for this song yet.', 'info', 2500); return }
    const s = P.nextSpan(spans, ws.getCurrentTime())
    if (!s) { banner(`No ${what} spans.`, 'info', 2000); return }
    ws.setTime(s.start)
    const [t0, t1] = visibleRange()
    if (s.start < t0 || s.start > t1) ws.setScrollTime(Math.max(0, s.start - (t1 - t0) / 3))
    state.sel = { kind: 'segment', index: P.segmentAt(current(), s.start + 1e-3) }
    renderSegments(); renderInspector()
  },
  zoom: (factor) => zoomTo(pxPerSec() * factor),
  reference: () => {
    if (state.ref) { state.lastRef = state.ref.id; setReference(null); $('sel-ref').value = '' } else {
      const id = state.lastRef || ((state.revisions || []).find((v) => v.state === 'verified') || {}).id
      if (id) setReference(id)
      else banner('No revision to draw as the reference yet (choose one in the Reference menu).', 'info', 2500)
    }
  }
}

$('btn-play').addEventListener('click', playPause)
$('btn-play-seg').addEventListener('click', playSelected)
$('btn-audition').addEventListener('click', audition)
$('sel-rate').addEventListener('change', (ev) => setRate(+ev.target.value))
$('btn-split').addEventListener('click', cmd.split)
$('btn-toggle').addEventListener('click', cmd.toggle)
$('btn-merge').addEventListener('click', cmd.merge)
$('btn-delb').addEventListener('click', cmd.deleteBoundary)
$('btn-snap').addEventListener('click', cmd.snap)
$('btn-undo').addEventListener('click', cmd.undo)
$('btn-redo').addEventListener('click', cmd.redo)
$('btn-zoom-in').addEventListener('click', () => cmd.zoom(2))
$('btn-zoom-out').addEventListener('click', () => cmd.zoom(0.5))
$('btn-zoom-fit').addEventListener('click', () => zoomTo(0))
$('btn-save').addEventListener('click', save)
$('btn-help').addEventListener('click', () => $('help').showModal())

// Only text entry keeps the keys; a checkbox, select or button that has focus does not.
const TEXT_TYPES = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'time', 'datetime-local', 'month', 'week'])
function typingIn (el) {
  if (!el || !el.tagName) return false
  const tag = el.tagName.toLowerCase()
  return tag === 'textarea' || el.isContentEditable || (tag === 'input' && TEXT_TYPES.has((el.type || 'text').toLowerCase()))
}

document.addEventListener('keydown', (ev) => {
  const ctrl = ev.ctrlKey || ev.metaKey
  const k = ev.key
  // Ctrl+S saves from anywhere on the page (a text field or dialog too) and never opens "Save page".
  if (ctrl && !ev.altKey && (k === 's' || k === 'S')) {
    ev.preventDefault()
    if (!document.querySelector('dialog[open]')) save()
    return
  }
  if (typingIn(ev.target) && k !== 'Escape') return
  if (document.querySelector('dialog[open]')) return // the dialog handles its own keys (Esc closes it)
  let handled = true
  if (ctrl && (k === 'z' || k === 'Z')) { ev.shiftKey ? cmd.redo() : cmd.undo() } else if (ctrl || ev.altKey) handled = false
  else if (k === ' ') playPause()
  else if (k === 's') cmd.split()
  else if (k === 't') cmd.toggle()
  else if (k === 'v') cmd.setLabel(P.VOCAL)
  else if (k === 'n') cmd.setLabel(P.NON_VOCAL)
  else if (k === 'm') cmd.merge()
  else if (k === 'Delete' || k === 'Backspace') cmd.deleteBoundary()
  else if (k === ',' || k === '<') cmd.nudge(ev.shiftKey ? -0.1 : -0.01)
  else if (k === '.' || k === '>') cmd.nudge(ev.shiftKey ? 0.1 : 0.01)
  else if (k === 'g') cmd.snap()
  else if (k === 'z') cmd.undo()
  else if (k === 'y') cmd.redo()
  else if (k === 'b') cmd.selectBoundary()
  else if (k === 'Tab') cmd.nextSegment(ev.shiftKey ? -1 : 1)
  else if (k === 'p') playSelected()
  else if (k === 'a') audition()
  else if (k === 'l') $('chk-loop').checked = !$('chk-loop').checked
  else if (k === '[') setRate(RATES[Math.max(0, RATES.indexOf(ws.getPlaybackRate()) - 1)] || 1)
  else if (k === ']') setRate(RATES[Math.min(RATES.length - 1, RATES.indexOf(ws.getPlaybackRate()) + 1)] || 1)
  else if (k === 'ArrowLeft') ws.setTime(Math.max(0, ws.getCurrentTime() - (ev.shiftKey ? 5 : 1)))
  else if (k === 'ArrowRight') ws.setTime(Math.min(state.duration, ws.getCurrentTime() + (ev.shiftKey ? 5 : 1)))
  else if (k === '+' || k === '=') cmd.zoom(2)
  else if (k === '-' || k === '_') cmd.zoom(0.5)
  else if (k === '0') zoomTo(0)
  else if (k === 'u') cmd.nextUnsure()
  else if (k === 'd') cmd.jump(state.pred ? state.pred.disagree : [], 'disagreement')
  else if (k === 'f') toggleSpectrogram($('spectrogram').hidden)
  else if (k === 'r') cmd.reference()
  else if (k === 'h') toggleHistory()
  else if (k === '?') $('help').showModal()
  else if (k === 'Escape') {
    if (typingIn(ev.target)) ev.target.blur()
    state.sel = null; renderSegments(); renderInspector(); $('history').hidden = true
  } else handled = false
  if (handled) ev.preventDefault()
})

// ------------------------------------------------------------------------------------ boot
function peaksFrom (doc) {
  // songs.peaks: {duration, data: [min0, max0, min1, max1, ...]}; wavesurfer draws channel 0 above
  // the axis and channel 1 below, so hand it [max..., min...].
  if (Array.isArray(doc.peaks)) return doc.peaks
  const data = doc.data || []
  const n = data.length >> 1
  const hi = new Float32Array(n)
  const lo = new Float32Array(n)
  for (let i = 0; i < n; i++) { lo[i] = data[2 * i]; hi[i] = data[2 * i + 1] }
  return [hi, lo]
}

async function boot () {
  const t0 = performance.now()
  const [peaksRes, annRes] = await Promise.all([
    api(cfg.api.peaks).catch(() => null),
    api(cfg.api.annotation).catch((err) => err)
  ])
  if (annRes instanceof Error) { banner(esc(annRes.message || 'Cannot load the annotation.'), 'error'); return }
  if (peaksRes && peaksRes.duration) state.duration = peaksRes.duration
  if (!state.duration) state.duration = annRes.segments.length ? annRes.segments[annRes.segments.length - 1].end : 0
  setBase(annRes)
  state.hist = P.history(state.baseSegs)

  // Unsaved edits from an earlier visit: restore those based on this revision (with a way to
  // discard them); offer the conflict path for those based on an older one.
  const drafts = draftsOfSong()
  const same = drafts.find((d) => d.key === draftKey(state.base))
  const stale = drafts.filter((d) => d.key !== draftKey(state.base)).sort((a, b) => b.at - a.at)[0]
  if (same && !P.samePartition(same.segments, state.baseSegs)) {
    state.hist = P.push(state.hist, P.fromSegments(same.segments, state.duration))
    banner(`Restored your unsaved edits from ${esc(new Date(same.at).toLocaleString())}. <button type="button" class="link-dark" data-action="discard-draft">Discard them</button>`, 'info')
  } else if (stale) {
    const baseRev = stale.base ? await api(`${cfg.api.revisions}/${stale.base}`).catch(() => null) : { id: null, segments: [] }
    localStorage.removeItem(stale.key)
    if (baseRev) {
      setBase(baseRev)
      state.hist = P.push(P.history(state.baseSegs), P.fromSegments(stale.segments, state.duration))
      showConflict({ latest: annRes.id ? annRes : null, error: 'You have unsaved edits from an earlier visit, based on an older revision.' })
    }
  }

  const peaks = peaksRes ? peaksFrom(peaksRes) : [new Float32Array(2)]
  if (!peaksRes) banner('The waveform is not ready yet (the song is still being processed); segments can be edited.', 'info')
  ws.once('redrawcomplete', () => {
    changed()
    scheduleLanes(true)
    $('t-zoom').textContent = zoomLabel()
    root.dataset.state = 'ready'
    window.__editorReadyMs = performance.now() - t0
    window.__editorReadyAt = performance.now()
    document.dispatchEvent(new CustomEvent('editor:ready'))
  })
  await ws.load(cfg.api.audio, peaks, state.duration)
  mountLayer()
  renderSegments()
  loadLayers()
  loadHistory()
}

window.addEventListener('resize', () => scheduleLanes(true))
boot().catch((e) => { banner(`The editor failed to start: ${esc(e.message || e)}`, 'error'); console.error(e) })
