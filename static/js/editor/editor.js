// The annotation editor page: wavesurfer 8.0.1 timeline + a vocal / non-vocal partition layer.
// Pure partition logic lives in partition.js (unit-tested); this module is the DOM, the network
// and the keyboard. The waveform comes from precomputed peaks (no decode); the <audio> element
// streams the song with HTTP Range. Only the spectrogram toggle decodes the whole file.
import WaveSurfer from '../../vendor/wavesurfer/8.0.1/wavesurfer.esm.js'
import TimelinePlugin from '../../vendor/wavesurfer/8.0.1/plugins/timeline.esm.js'
import MinimapPlugin from '../../vendor/wavesurfer/8.0.1/plugins/minimap.esm.js'
import ZoomPlugin from '../../vendor/wavesurfer/8.0.1/plugins/zoom.esm.js'
import HoverPlugin from '../../vendor/wavesurfer/8.0.1/plugins/hover.esm.js'
import * as P from './partition.js'

const cfg = JSON.parse(document.getElementById('editor-config').textContent)
const $ = (id) => document.getElementById(id)
const root = $('editor')
const css = getComputedStyle(document.documentElement)
const color = (name, fallback) => (css.getPropertyValue(name) || fallback).trim()
const MAX_PX_PER_SEC = 5000 // 50 px per 10 ms frame
const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2]

const state = {
  duration: +cfg.song.duration || 0,
  base: null, // the revision the edits are based on (null id = the song has none)
  baseSegs: [],
  hist: P.history([]),
  sel: null, // {kind: 'segment' | 'boundary', index}
  pred: null, // {probs, hop, threshold, uncertain, disagree}
  drag: null,
  saving: false,
  conflict: null,
  minPx: 0,
  specLoaded: false
}
window.__editor = state // for tests and the benchmark

// ------------------------------------------------------------------------------------ network
function csrf () {
  const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/)
  return m ? decodeURIComponent(m[1]) : ''
}

async function api (url, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' }
  if (method !== 'GET') init.headers['X-CSRFToken'] = csrf()
  if (body instanceof FormData) init.body = body
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json' }
  const res = await fetch(url, init)
  let data = null
  try { data = await res.json() } catch (e) { data = null }
  return { ok: res.ok, status: res.status, data, etag: res.headers.get('ETag') }
}

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
  drawProb()
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
    TimelinePlugin.create({ container: '#timeline', height: 18, timeInterval: undefined, style: { fontSize: '11px', color: '#667085' } }),
    MinimapPlugin.create({ container: '#minimap', height: 34, waveColor: '#adb5bd', progressColor: '#495057', overlayColor: 'rgba(59,91,219,.15)', cursorColor: '#e03131' }),
    ZoomPlugin.create({ scale: 0.25, maxZoom: MAX_PX_PER_SEC, exponentialZooming: true }),
    HoverPlugin.create({ lineColor: '#3b5bdb', lineWidth: 1, labelBackground: '#1d2330', labelColor: '#fff', labelSize: '11px', formatTimeCallback: (t) => t.toFixed(3) })
  ]
})
window.__ws = ws

function pxPerSec () {
  const w = ws.getWrapper().scrollWidth || ws.getWidth()
  return w / (state.duration || 1)
}

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

ws.on('zoom', (px) => { state.minPx = px; $('t-zoom').textContent = zoomLabel(); drawProb() })
ws.on('scroll', () => drawProb())
ws.on('resize', () => drawProb())
ws.on('timeupdate', (t) => {
  $('t-cursor').textContent = t.toFixed(3)
  loopCheck(t)
  drawProbCursor()
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
.seg { position: absolute; top: 0; bottom: 0; pointer-events: auto; cursor: pointer; border-top: 6px solid; box-sizing: border-box; }
.seg.vocal { background: ${color('--vocal-soft', 'rgba(240,140,0,.28)')}; border-top-color: ${color('--vocal', '#f08c00')}; }
.seg.non-vocal { background: ${color('--nonvocal-soft', 'rgba(92,124,250,.14)')}; border-top-color: ${color('--nonvocal', '#5c7cfa')}; }
.seg.selected { box-shadow: inset 0 0 0 2px #1d2330; }
.seg .lab { position: absolute; top: 2px; left: 4px; font: 600 10px system-ui, sans-serif; color: #1d2330; opacity: .75; white-space: nowrap; pointer-events: none; }
.bnd { position: absolute; top: 0; bottom: 0; width: 11px; margin-left: -5px; cursor: ew-resize; pointer-events: auto; z-index: 2; touch-action: none; }
.bnd::after { content: ''; position: absolute; left: 5px; top: 0; bottom: 0; width: 1px; background: #1d2330; opacity: .55; }
.bnd:hover::after, .bnd.selected::after { width: 3px; left: 4px; opacity: 1; background: #e8590c; }
.bnd.selected::before { content: ''; position: absolute; left: 0; top: 0; border: 5px solid transparent; border-top-color: #e8590c; }
.pin { position: absolute; top: 8px; width: 0; height: 0; border: 6px solid transparent; border-top-color: #7048e8; margin-left: -6px; pointer-events: auto; cursor: help; z-index: 4; }
`

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
  const frag = document.createDocumentFragment()
  const sel = state.sel
  segs.forEach((s, i) => {
    const el = document.createElement('div')
    el.className = `seg ${s.label}` + (sel && sel.kind === 'segment' && sel.index === i ? ' selected' : '')
    el.style.left = `${(s.start / d) * 100}%`
    el.style.width = `${((s.end - s.start) / d) * 100}%`
    el.dataset.index = i
    el.dataset.label = s.label
    el.title = `${s.label} ${s.start.toFixed(2)}–${s.end.toFixed(2)} s`
    const lab = document.createElement('span')
    lab.className = 'lab'
    lab.textContent = s.label === P.VOCAL ? 'vocal' : 'non-vocal'
    el.appendChild(lab)
    frag.appendChild(el)
  })
  for (let b = 1; b < segs.length; b++) {
    const h = document.createElement('div')
    h.className = 'bnd' + (sel && sel.kind === 'boundary' && sel.index === b ? ' selected' : '')
    h.style.left = `${(segs[b].start / d) * 100}%`
    h.dataset.b = b
    h.title = `boundary ${segs[b].start.toFixed(3)} s (drag; , . to nudge)`
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
  layer.replaceChildren(frag)
  root.dataset.segments = segs.length
}

function timeAtClientX (x) {
  const rect = ws.getWrapper().getBoundingClientRect()
  return Math.max(0, Math.min(state.duration, ((x - rect.left) / rect.width) * state.duration))
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

layer.addEventListener('pointermove', (ev) => {
  const dr = state.drag
  if (!dr) return
  let t = timeAtClientX(ev.clientX)
  if (!ev.altKey) t = P.snapTime(t)
  const next = P.moveBoundary(dr.start, dr.b, t)
  dr.moved = next !== dr.start
  state.hist = { ...state.hist, present: next }
  renderSegments()
  renderInspector()
})

function endDrag () {
  const dr = state.drag
  if (!dr) return
  state.drag = null
  const final = current()
  state.hist = { ...state.hist, present: dr.start }
  if (dr.moved) edit(final, { select: { kind: 'boundary', index: dr.b } })
  else renderSegments()
}
layer.addEventListener('pointerup', endDrag)
layer.addEventListener('pointercancel', endDrag)

layer.addEventListener('click', (ev) => {
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

// ------------------------------------------------------------------------------------ probability lane
const probCanvas = $('prob-lane')

function recomputeDisagreement () {
  if (!state.pred) return
  const p = state.pred
  p.disagree = P.disagreementSpans(current(), p.probs, p.hop, p.threshold)
}

function drawProb () {
  const c = probCanvas
  const w = c.clientWidth
  const dpr = window.devicePixelRatio || 1
  if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(56 * dpr) }
  const ctx = c.getContext('2d')
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
  const H = 56
  ctx.clearRect(0, 0, w, H)
  if (!state.pred || !state.duration) return
  const { probs, hop, threshold, uncertain, disagree } = state.pred
  const [t0, t1] = visibleRange()
  const span = t1 - t0 || 1
  const x = (t) => ((t - t0) / span) * w
  ctx.fillStyle = 'rgba(250, 176, 5, .30)'
  for (const s of uncertain) if (s.end >= t0 && s.start <= t1) ctx.fillRect(x(s.start), 0, Math.max(1, x(s.end) - x(s.start)), H)
  ctx.fillStyle = 'rgba(224, 49, 49, .75)'
  for (const s of disagree) if (s.end >= t0 && s.start <= t1) ctx.fillRect(x(s.start), H - 5, Math.max(1, x(s.end) - x(s.start)), 5)
  ctx.beginPath()
  ctx.moveTo(0, H)
  for (let px = 0; px < w; px++) {
    const a = Math.max(0, Math.floor((t0 + (px / w) * span) / hop))
    const b = Math.min(probs.length, Math.max(a + 1, Math.ceil((t0 + ((px + 1) / w) * span) / hop)))
    let m = 0
    for (let i = a; i < b; i++) if (probs[i] > m) m = probs[i]
    ctx.lineTo(px, H - 6 - m * (H - 10))
  }
  ctx.lineTo(w, H)
  ctx.closePath()
  ctx.fillStyle = color('--vocal-soft', 'rgba(240,140,0,.28)')
  ctx.fill()
  ctx.strokeStyle = color('--vocal', '#f08c00')
  ctx.lineWidth = 1
  ctx.stroke()
  const ty = H - 6 - threshold * (H - 10)
  ctx.setLineDash([4, 3])
  ctx.strokeStyle = '#1d2330'
  ctx.beginPath(); ctx.moveTo(0, ty); ctx.lineTo(w, ty); ctx.stroke()
  ctx.setLineDash([])
  state.probCursorX = null
  drawProbCursor()
}

function drawProbCursor () {
  if (!state.pred) return
  const c = probCanvas
  const ctx = c.getContext('2d')
  const w = c.clientWidth
  const [t0, t1] = visibleRange()
  const xx = ((ws.getCurrentTime() - t0) / (t1 - t0 || 1)) * w
  if (state.probCursorX != null && Math.abs(state.probCursorX - xx) < 0.5) return
  if (state.probCursorX != null) { state.probCursorX = null; drawProb(); return }
  ctx.fillStyle = '#e03131'
  ctx.fillRect(xx - 1, 0, 2, 56)
  state.probCursorX = xx
}

async function loadPrediction () {
  const r = await api(cfg.api.prediction)
  if (!r.ok) return
  const d = r.data
  const probs = d.encoding === 'list' ? Float32Array.from(d.probabilities) : P.decodeFloat16Base64(d.probabilities)
  state.pred = { probs, hop: d.hop, threshold: d.threshold, uncertain: P.uncertainSpans(probs, d.hop, d.threshold), disagree: [], model: d.model }
  recomputeDisagreement()
  $('prob-legend').textContent = `${d.model.name}: p(singing), threshold ${d.threshold.toFixed(2)} · u: next unsure · d: next disagreement`
  renderSegments()
  drawProb()
}

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
  if (document.activeElement !== $('sel-start')) $('sel-start').value = s.start.toFixed(3)
  if (document.activeElement !== $('sel-end')) $('sel-end').value = s.end.toFixed(3)
  $('sel-start').disabled = k === 0
  $('sel-end').disabled = k === segs.length - 1
  const b = selectedBoundary()
  $('sel-boundary').textContent = b > 0 ? `Boundary at ${segs[b].start.toFixed(3)} s selected: , . nudge 10 ms (Shift 100 ms), Delete removes it` : ''
}

$('sel-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  const k = selectedSegment()
  const start = parseFloat($('sel-start').value)
  const end = parseFloat($('sel-end').value)
  edit(P.setSegmentTimes(current(), k, start, end), { select: { kind: 'segment', index: k } })
  $('sel-start').blur(); $('sel-end').blur()
  renderInspector()
})

// ------------------------------------------------------------------------------------ status
function renderStatus () {
  const b = state.base
  const badge = $('rev-badge')
  if (b && b.id) {
    badge.textContent = `revision ${b.number} · ${b.state} · ${b.origin}${b.author ? ' · ' + b.author : ''}`
    badge.className = `badge ${b.state}`
  } else {
    badge.textContent = 'no revision yet'
    badge.className = 'badge'
  }
  const dirty = isDirty()
  $('save-status').textContent = state.saving ? 'Saving…' : dirty ? `Unsaved changes (${state.hist.past.length} edit${state.hist.past.length === 1 ? '' : 's'})` : 'All changes saved'
  $('save-status').classList.toggle('unsaved', dirty)
  $('btn-save').disabled = state.saving || !dirty
  $('btn-undo').disabled = !state.hist.past.length
  $('btn-redo').disabled = !state.hist.future.length
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

// ------------------------------------------------------------------------------------ save & conflicts
async function save () {
  if (state.saving || !isDirty()) return
  state.saving = true
  renderStatus()
  const mine = current()
  const r = await api(cfg.api.annotation, { method: 'PUT', body: { segments: P.normalize(mine) }, headers: { 'If-Match': etagOf(state.base) } })
  state.saving = false
  if (r.status === 201 || r.status === 200) {
    const oldKey = draftKey(state.base)
    localStorage.removeItem(oldKey)
    setBase(r.data)
    // keep the undo history, but the saved partition is now the reference
    state.hist = { past: state.hist.past, present: P.fromSegments(r.data.segments, state.duration), future: [] }
    changed()
    banner(`Saved revision ${r.data.number}.`, 'ok', 2500)
    loadHistory()
  } else if (r.status === 409) {
    showConflict(r.data)
  } else {
    renderStatus()
    banner(esc(r.data ? r.data.error : `Saving failed (HTTP ${r.status}).`), 'error')
  }
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
  banner(`Loaded revision ${latest.number}.`, 'ok', 2500)
})

$('btn-conflict-cancel').addEventListener('click', () => { $('conflict').close() })

// ------------------------------------------------------------------------------------ review, import
async function submitForReview () {
  if (isDirty()) { await save(); if (isDirty()) return }
  const r = await api(cfg.api.submit, { method: 'POST', headers: { 'If-Match': etagOf(state.base) } })
  afterStateChange(r, 'Submitted for review.')
}

async function review (decision, comment = '', time = null) {
  if (isDirty() && decision !== 'comment') { banner('Save your edits before reviewing.', 'error'); return }
  const r = await api(cfg.api.review, {
    method: 'POST', body: { decision, comment, time }, headers: decision === 'comment' ? {} : { 'If-Match': etagOf(state.base) }
  })
  if (r.ok && decision === 'comment') { banner('Comment added.', 'ok', 2000); loadHistory(); return }
  afterStateChange(r && r.ok ? { ...r, data: r.data.revision } : r, decision === 'verify' ? 'Verified.' : 'Rejected: back to draft.')
}

function afterStateChange (r, message) {
  if (r.ok) {
    localStorage.removeItem(draftKey(state.base))
    setBase(r.data)
    changed()
    banner(esc(message), 'ok', 2500)
    loadHistory()
  } else if (r.status === 409) showConflict(r.data)
  else banner(esc(r.data ? r.data.error : `HTTP ${r.status}`), 'error')
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
  const r = await api(cfg.api.annotation, { method: 'POST', body: fd, headers: { 'If-Match': etagOf(state.base) } })
  if (r.ok) {
    localStorage.removeItem(draftKey(state.base))
    setBase(r.data)
    state.hist = P.history(P.fromSegments(r.data.segments, state.duration))
    changed()
    banner(`Imported ${esc(file.name)} as revision ${r.data.number}.`, 'ok', 3000)
    loadHistory()
  } else if (r.status === 409) showConflict(r.data)
  else banner(esc(r.data ? r.data.error : `Import failed (HTTP ${r.status}).`), 'error')
})

// ------------------------------------------------------------------------------------ history & diff
let historySeq = 0
async function loadHistory () {
  // Saves, submits and the history key can each start a refresh: only the latest one renders.
  const seq = ++historySeq
  const r = await api(cfg.api.revisions)
  if (!r.ok || seq !== historySeq) return
  const ticked = new Set([...document.querySelectorAll('#history-rows .pick:checked')].map((p) => +p.value))
  state.revisions = r.data.results
  state.comments = r.data.comments
  const rows = r.data.results.map((v) => `<tr data-id="${v.id}"${v.id === r.data.current ? ' class="current"' : ''}>
    <td><input type="checkbox" class="pick" value="${v.id}" aria-label="compare revision ${v.number}"></td>
    <td>${v.number}</td><td><span class="badge ${esc(v.state)}">${esc(v.state)}</span></td><td>${esc(v.origin)}</td>
    <td>${esc(v.author || '–')}</td><td>${esc(new Date(v.created_at).toLocaleString())}</td><td class="num">${v.vocal_seconds.toFixed(1)}</td>
    <td><button class="link-dark load-rev" data-id="${v.id}" title="Put this revision's segments in the editor (as an edit)">use</button></td></tr>`)
  $('history-rows').innerHTML = rows.join('') || '<tr><td colspan="8" class="muted">No revisions yet.</td></tr>'
  const picks = [...document.querySelectorAll('#history-rows .pick')]
  // Keep the revisions the user ticked across refreshes; tick the newest two the first time.
  if (ticked.size) picks.forEach((p) => { p.checked = ticked.has(+p.value) })
  else picks.slice(0, 2).forEach((p) => { p.checked = true })
  $('comments').innerHTML = r.data.comments.length
    ? r.data.comments.map((c) => `<li><b>${esc(c.author || '?')}</b> ${c.decision ? `<span class="badge ${c.decision === 'verified' ? 'verified' : 'failed'}">${esc(c.decision)}</span>` : ''}
        on r${c.revision_number}${c.time != null ? ` at <a href="#" class="seek" data-t="${c.time}">${c.time.toFixed(2)} s</a>` : ''}: ${esc(c.text)}</li>`).join('')
    : '<li class="muted">No comments yet.</li>'
  renderSegments()
}

$('comments').addEventListener('click', (ev) => {
  const a = ev.target.closest('.seek')
  if (a) { ev.preventDefault(); ws.setTime(+a.dataset.t); ws.setScrollTime(Math.max(0, +a.dataset.t - 2)) }
})

$('history-rows').addEventListener('click', async (ev) => {
  const btn = ev.target.closest('.load-rev')
  if (!btn) return
  const r = await api(`${cfg.api.revisions}/${btn.dataset.id}`)
  if (r.ok) { edit(P.fromSegments(r.data.segments, state.duration)); banner(`Revision ${r.data.number} is in the editor as an unsaved edit.`, 'info', 3000) }
})

$('btn-diff').addEventListener('click', async () => {
  const ids = [...document.querySelectorAll('#history-rows .pick:checked')].map((p) => +p.value).sort((a, b) => a - b)
  if (ids.length !== 2) { $('diff-out').textContent = 'Tick exactly two revisions.'; return }
  const r = await api(`${cfg.api.diff}?from=${ids[0]}&to=${ids[1]}`)
  if (!r.ok) { $('diff-out').textContent = r.data ? r.data.error : 'failed'; return }
  const d = r.data
  const moved = d.boundaries_moved.map((m) => `${m.from.toFixed(2)}→${m.to.toFixed(2)} s (${m.delta > 0 ? '+' : ''}${(m.delta * 1000).toFixed(0)} ms)`)
  $('diff-out').innerHTML = `<p>From <b>r${d.from.number}</b> (${esc(d.from.author || d.from.origin)}) to <b>r${d.to.number}</b> by <b>${esc(d.to.author || d.to.origin)}</b>:
    <b class="diff-frames">${d.frames_changed}</b> of ${d.frames_total} frames changed (${d.seconds_changed} s; ${d.frames_to_vocal} to vocal, ${d.frames_to_non_vocal} to non-vocal).</p>
    <p>${d.boundaries_moved.length} boundaries moved${moved.length ? ': ' + esc(moved.slice(0, 12).join(', ')) + (moved.length > 12 ? '…' : '') : ''};
    ${d.boundaries_added.length} added, ${d.boundaries_removed.length} removed.</p>
    <ul class="spans">${d.spans.slice(0, 50).map((s) => `<li><a href="#" class="seek" data-t="${s.start}">${s.start.toFixed(2)}–${s.end.toFixed(2)} s</a> → ${esc(s.to)}</li>`).join('')}</ul>`
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

// ------------------------------------------------------------------------------------ spectrogram
async function toggleSpectrogram (on) {
  const box = $('spectrogram')
  $('chk-spec').checked = on
  box.hidden = !on
  if (!on || state.specLoaded) return
  state.specLoaded = true
  box.textContent = 'Decoding the audio for the spectrogram…'
  try {
    const { default: SpectrogramPlugin } = await import('../../vendor/wavesurfer/8.0.1/plugins/spectrogram.esm.js')
    const buf = await (await fetch(cfg.api.audio, { credentials: 'same-origin' })).arrayBuffer()
    const rate = cfg.song.sample_rate || 44100
    const ctx = new OfflineAudioContext(1, 1, rate)
    const audio = await ctx.decodeAudioData(buf)
    box.textContent = ''
    // Hand the decoded samples to wavesurfer (same URL, so playback is untouched) and draw full band.
    const t = ws.getCurrentTime()
    const px = state.minPx
    await ws.load(cfg.api.audio, [audio.getChannelData(0)], state.duration)
    ws.setTime(t)
    if (px) ws.zoom(px)
    ws.registerPlugin(SpectrogramPlugin.create({
      container: box, height: 160, labels: true, scale: 'linear', frequencyMin: 0, frequencyMax: audio.sampleRate / 2,
      fftSamples: 512, rendering: state.duration > 900 ? 'windowed' : 'full'
    }))
    renderSegments()
  } catch (e) {
    state.specLoaded = false
    box.textContent = `The spectrogram needs the browser to decode the audio, which failed: ${e.message || e}`
  }
}
$('chk-spec').addEventListener('change', (ev) => toggleSpectrogram(ev.target.checked))

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
  zoom: (factor) => zoomTo(pxPerSec() * factor)
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

document.addEventListener('keydown', (ev) => {
  const tag = (ev.target.tagName || '').toLowerCase()
  if (['input', 'textarea', 'select'].includes(tag) && ev.key !== 'Escape') return
  if (document.querySelector('dialog[open]')) return // the dialog handles its own keys (Esc closes it)
  const ctrl = ev.ctrlKey || ev.metaKey
  const k = ev.key
  let handled = true
  if (ctrl && (k === 'z' || k === 'Z')) { ev.shiftKey ? cmd.redo() : cmd.undo() } else if (ctrl && k === 's') save()
  else if (ctrl || ev.altKey) handled = false
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
  else if (k === 'u') cmd.jump(state.pred ? state.pred.uncertain : [], 'uncertain')
  else if (k === 'd') cmd.jump(state.pred ? state.pred.disagree : [], 'disagreement')
  else if (k === 'f') toggleSpectrogram($('spectrogram').hidden)
  else if (k === 'h') toggleHistory()
  else if (k === '?') $('help').showModal()
  else if (k === 'Escape') { state.sel = null; renderSegments(); renderInspector(); $('history').hidden = true }
  else handled = false
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
    fetch(cfg.api.peaks, { credentials: 'same-origin' }).then(async (r) => (r.ok ? r.json() : null)).catch(() => null),
    api(cfg.api.annotation)
  ])
  if (!annRes.ok) { banner(esc(annRes.data ? annRes.data.error : 'Cannot load the annotation.'), 'error'); return }
  if (peaksRes && peaksRes.duration) state.duration = peaksRes.duration
  if (!state.duration) state.duration = annRes.data.segments.length ? annRes.data.segments[annRes.data.segments.length - 1].end : 0
  setBase(annRes.data)
  state.hist = P.history(state.baseSegs)

  // Unsaved edits from an earlier visit: restore those based on this revision; offer the conflict
  // path for those based on an older one.
  const drafts = draftsOfSong()
  const same = drafts.find((d) => d.key === draftKey(state.base))
  const stale = drafts.filter((d) => d.key !== draftKey(state.base)).sort((a, b) => b.at - a.at)[0]
  if (same && !P.samePartition(same.segments, state.baseSegs)) {
    state.hist = P.push(state.hist, P.fromSegments(same.segments, state.duration))
    banner(`Restored your unsaved edits from ${esc(new Date(same.at).toLocaleString())}.`, 'info', 5000)
  } else if (stale) {
    const baseRev = stale.base ? await api(`${cfg.api.revisions}/${stale.base}`) : { ok: true, data: { id: null, segments: [] } }
    if (baseRev.ok) {
      localStorage.removeItem(stale.key)
      setBase(baseRev.data)
      state.hist = P.push(P.history(state.baseSegs), P.fromSegments(stale.segments, state.duration))
      showConflict({ latest: annRes.data.id ? annRes.data : null, error: 'You have unsaved edits from an earlier visit, based on an older revision.' })
    } else localStorage.removeItem(stale.key)
  }

  const peaks = peaksRes ? peaksFrom(peaksRes) : [new Float32Array(2)]
  if (!peaksRes) banner('The waveform is not ready yet (the song is still being processed); segments can be edited.', 'info')
  ws.once('redrawcomplete', () => {
    changed()
    $('t-zoom').textContent = zoomLabel()
    root.dataset.state = 'ready'
    window.__editorReadyMs = performance.now() - t0
    window.__editorReadyAt = performance.now()
    document.dispatchEvent(new CustomEvent('editor:ready'))
  })
  await ws.load(cfg.api.audio, peaks, state.duration)
  mountLayer()
  renderSegments()
  loadPrediction()
  loadHistory()
}

window.addEventListener('resize', () => drawProb())
boot().catch((e) => { banner(`The editor failed to start: ${esc(e.message || e)}`, 'error'); console.error(e) })
