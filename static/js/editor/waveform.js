// The waveform (wavesurfer 8 from precomputed peaks; the <audio> element streams the song with HTTP
// Range) and the one mapping between time and pixels that the waveform and every lane draw with:
// wavesurfer's wrapper (the full scroll width of the waveform) is `duration` seconds wide, so
// x(t) = wrapper.left + t / duration * wrapper.width in client coordinates, at every zoom and scroll.
import WaveSurfer from '../../vendor/wavesurfer/8.0.1/wavesurfer.esm.js'
import MinimapPlugin from '../../vendor/wavesurfer/8.0.1/plugins/minimap.esm.js'
import ZoomPlugin from '../../vendor/wavesurfer/8.0.1/plugins/zoom.esm.js'
import HoverPlugin from '../../vendor/wavesurfer/8.0.1/plugins/hover.esm.js'
import { WAVE_H } from './page.js'
import { state } from './state.js'
import { fmtTime } from './timeaxis.js'

export const MAX_PX_PER_SEC = 5000 // 50 px per 10 ms frame

export const ws = WaveSurfer.create({
  container: '#waveform',
  height: WAVE_H,
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
    HoverPlugin.create({ lineColor: '#3b5bdb', lineWidth: 1, labelBackground: '#1d2330', labelColor: '#fff', labelSize: '11px', formatTimeCallback: (t) => fmtTime(t, 3) })
  ]
})
window.__ws = ws // for tests and the benchmark

export function wrapperRect () { return ws.getWrapper().getBoundingClientRect() }

export function pxPerSec () {
  // the wrapper's box, not its scrollWidth: a hover label or boundary handle at the end overflows it
  const w = ws.getWrapper().getBoundingClientRect().width || ws.getWidth()
  return w / (state.duration || 1)
}

export function clientXOf (t, rect = wrapperRect()) { return rect.left + (t / (state.duration || 1)) * rect.width }

export function timeAtClientX (x, rect = wrapperRect()) {
  return Math.max(0, Math.min(state.duration, ((x - rect.left) / (rect.width || 1)) * state.duration))
}

/** What a lane element shows: {t0, t1, pps, x(t) in lane px, w, h}. */
export function laneView (el) {
  const wr = wrapperRect()
  const lr = el.getBoundingClientRect()
  const pps = wr.width / (state.duration || 1)
  const t0 = (lr.left - wr.left) / pps
  return { t0, t1: t0 + lr.width / pps, pps, w: lr.width, h: lr.height, x: (t) => wr.left + t * pps - lr.left }
}
window.__editorMap = { clientXOf, timeAtClientX, pxPerSec } // the same functions the lanes use (tests)

/** [first, last] second on screen. */
export function visibleRange () {
  const pps = pxPerSec()
  const start = ws.getScroll() / pps
  return [start, start + ws.getWidth() / pps]
}

/** Scroll so that `t` is on screen, a third of the way in, unless it already is. */
export function reveal (t) {
  const [t0, t1] = visibleRange()
  if (t < t0 || t > t1) ws.setScrollTime(Math.max(0, t - (t1 - t0) / 3))
}

/** Zoom to `px` px/s (0 or less: the whole song fits), keeping the cursor in the middle. */
export function zoomTo (px) {
  const fit = ws.getWidth() / (state.duration || 1)
  px = Math.max(fit, Math.min(MAX_PX_PER_SEC, px))
  const t = ws.getCurrentTime()
  ws.zoom(px <= fit * 1.0001 ? 0 : px)
  state.minPx = px
  ws.setScrollTime(Math.max(0, t - (ws.getWidth() / px) / 2))
}

export function zoomLabel () {
  const px = pxPerSec()
  return px >= 100 ? `${(px / 100).toFixed(1)} px/frame` : `${px.toFixed(1)} px/s`
}
