// The probability lane: up to three models' p(singing) curves (the active model, the previous one,
// another chosen one), the active model's threshold, its unsure regions and where the working
// partition disagrees with it.
import { api } from '../api.js'
import { $, cfg, root, color, esc, banner, PROB_H } from './page.js'
import * as P from './partition.js'
import { state, current } from './state.js'
import { scheduleLanes } from './redraw.js'
import { renderSegments } from './segments.js'
import { canvasFor } from './lanes.js'
import { laneView } from './waveform.js'

const CURVES = {
  active: { stroke: color('--vocal', '#f08c00'), fill: color('--vocal-soft', 'rgba(240,140,0,.28)') },
  previous: { stroke: '#7048e8', dash: [5, 3] },
  other: { stroke: '#0c8599', dash: [] }
}

/** The spans where the working partition and the active model disagree (after every edit). */
export function recomputeDisagreement () {
  if (!state.pred) return
  const p = state.pred
  p.disagree = P.disagreementSpans(current(), p.probs, p.hop, p.threshold)
}

export function drawProb () {
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

/** Load model `modelId`'s prediction as the `role` curve (null: remove that curve). */
export async function loadCurve (role, modelId) {
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

/** The song's predictions: fill the curve choices, draw the active model's curve, and the one a
 * ?compare=<model id> link asks for (links from a training job: "what the new model changed"). */
export async function loadLayers () {
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
