// The spectrogram lane: tiles of the server's log-mel pyramid (no decoding in the browser), at the
// level that fits the zoom, with a coarser level standing in while a tile loads.
import { api, apiBytes } from '../api.js'
import { $, cfg, root, SPEC_H } from './page.js'
import { state } from './state.js'
import * as T from './timeaxis.js'
import { scheduleLanes } from './redraw.js'
import { canvasFor } from './lanes.js'
import { laneView } from './waveform.js'

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

export async function toggleSpectrogram (on) {
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

export function drawSpec () {
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
