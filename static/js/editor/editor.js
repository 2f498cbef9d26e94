// The annotation editor page (entry module): a wavesurfer waveform with the vocal / non-vocal
// partition over it, and lanes under it on the same time axis (ruler, reference revision, model
// curves, spectrogram). This module only wires the parts together and starts them:
//
//   state.js      the one state object (partition history, base revision, selection); no DOM
//   partition.js  the partition's rules (split, merge, paint, rebase, ...); no DOM
//   timeaxis.js   time format, ruler ticks, mel axis; no DOM
//   keymap.js     key -> action name table; no DOM
//   drafts.js     unsaved edits kept in the browser, and rebasing onto a new revision
//   page.js       config, element lookup, colours, banner
//   waveform.js   wavesurfer and the one time <-> pixel mapping
//   segments.js   the segment layer and mouse editing       inspector.js  the selection's form
//   redraw.js     the lanes' redraw at the next frame         lanes.js      ruler, reference lane, lines
//   curves.js     model probability curves                    spectrogram.js  spectrogram tiles
//   reference.js  the reference revision                      history.js    revisions, comments, diff
//   revisions.js  save, conflicts, review, import             status.js     the status bar
//   playback.js   play, loop, speed                           actions.js    what keys and buttons do
//   details.js    song title / artist / album                 exportview.js the view as a PNG
import { api } from '../api.js'
import { $, cfg, root, esc, banner } from './page.js'
import * as P from './partition.js'
import { state, on, useCursor, setBase, changed } from './state.js'
import { draftSave, draftsOnOpen, draftForget } from './drafts.js'
import { keyAction, typingIn } from './keymap.js'
import { fmtTime } from './timeaxis.js'
import { ws, zoomLabel } from './waveform.js'
import { scheduleLanes, paintWith } from './redraw.js'
import { mountLayer, renderSegments } from './segments.js'
import { renderInspector } from './inspector.js'
import { drawRuler, drawRef, drawCursorLine, placeLaneLine } from './lanes.js'
import { drawProb, loadLayers, recomputeDisagreement } from './curves.js'
import { drawSpec } from './spectrogram.js'
import { loadHistory } from './history.js'
import { showConflict, save } from './revisions.js'
import { renderStatus } from './status.js'
import { loopCheck, loopSong, setRate } from './playback.js'
import { actions } from './actions.js'
import './details.js'
import './exportview.js'

state.songId = cfg.song.id
state.duration = +cfg.song.duration || 0
window.__editor = state // for tests and the benchmark
useCursor(() => ws.getCurrentTime())

// ------------------------------------------------------------------------------------ what follows what
on('changed', () => {
  renderSegments()
  renderInspector()
  recomputeDisagreement()
  scheduleLanes(false, true)
  renderStatus()
  draftSave()
})
on('selected', () => { renderSegments(); renderInspector() })

paintWith('relabel', renderSegments) // labels depend on px/s
paintWith('view', drawRuler)
paintWith('always', drawRef)
paintWith('always', drawProb)
paintWith('view', drawSpec)
paintWith('always', drawCursorLine)

ws.on('zoom', (px) => { state.minPx = px; $('t-zoom').textContent = zoomLabel(); scheduleLanes(true) })
ws.on('scroll', () => scheduleLanes())
// wavesurfer's 'scroll' event can skip the last step of a scroll: the lanes also follow the element
ws.getWrapper().parentElement.addEventListener('scroll', () => scheduleLanes(), { passive: true })
ws.on('resize', () => scheduleLanes(true))
ws.on('redraw', () => scheduleLanes(true))
ws.on('timeupdate', (t) => {
  $('t-cursor').textContent = fmtTime(t, 3)
  loopCheck(t)
  placeLaneLine($('lane-cursor'), t)
})
ws.on('play', () => { $('btn-play').textContent = '❚❚ Pause' })
ws.on('pause', () => { $('btn-play').textContent = '▶ Play' })
ws.on('finish', loopSong)
window.addEventListener('resize', () => scheduleLanes(true))

// ------------------------------------------------------------------------------------ buttons & keys
const BUTTONS = {
  'btn-play': actions.playPause,
  'btn-play-seg': actions.playSelected,
  'btn-audition': actions.audition,
  'btn-split': actions.split,
  'btn-toggle': actions.toggle,
  'btn-merge': actions.merge,
  'btn-delb': actions.deleteBoundary,
  'btn-snap': actions.snap,
  'btn-undo': actions.undo,
  'btn-redo': actions.redo,
  'btn-zoom-in': () => actions.zoom(2),
  'btn-zoom-out': () => actions.zoom(0.5),
  'btn-zoom-fit': actions.zoomFit,
  'btn-save': save,
  'btn-help': actions.help
}
for (const [id, run] of Object.entries(BUTTONS)) $(id).addEventListener('click', () => run())
$('sel-rate').addEventListener('change', (ev) => setRate(+ev.target.value))
document.querySelectorAll('[data-close]').forEach((b) => b.addEventListener('click', () => { $(b.dataset.close).hidden = true }))

const dialogOpen = () => !!document.querySelector('dialog[open]')

document.addEventListener('keydown', (ev) => {
  const hit = keyAction(ev)
  // Ctrl+S saves from anywhere on the page (a text field or dialog too) and never opens "Save page".
  if (hit && hit.action === 'save') {
    ev.preventDefault()
    if (!dialogOpen()) save()
    return
  }
  if (typingIn(ev.target) && ev.key !== 'Escape') return
  if (dialogOpen()) return // the dialog handles its own keys (Esc closes it)
  if (!hit) return
  actions[hit.action](hit.arg, ev)
  ev.preventDefault()
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

/** Unsaved edits from an earlier visit: restore those based on this revision (with a way to discard
 * them); offer the conflict path for those based on an older one. */
async function restoreDrafts (latest) {
  const { same, stale } = draftsOnOpen()
  if (same) {
    state.hist = P.push(state.hist, P.fromSegments(same.segments, state.duration))
    banner(`Restored your unsaved edits from ${esc(new Date(same.at).toLocaleString())}. <button type="button" class="link-dark" data-action="discard-draft">Discard them</button>`, 'info')
  } else if (stale) {
    const baseRev = stale.base ? await api(`${cfg.api.revisions}/${stale.base}`).catch(() => null) : { id: null, segments: [] }
    draftForget(stale.key)
    if (baseRev) {
      setBase(baseRev)
      state.hist = P.push(P.history(state.baseSegs), P.fromSegments(stale.segments, state.duration))
      showConflict({ latest: latest.id ? latest : null, error: 'You have unsaved edits from an earlier visit, based on an older revision.' })
    }
  }
}

async function boot () {
  const t0 = performance.now()
  const [peaksDoc, annotation] = await Promise.all([
    api(cfg.api.peaks).catch(() => null),
    api(cfg.api.annotation).catch((err) => err)
  ])
  if (annotation instanceof Error) { banner(esc(annotation.message || 'Cannot load the annotation.'), 'error'); return }
  if (peaksDoc && peaksDoc.duration) state.duration = peaksDoc.duration
  if (!state.duration) state.duration = annotation.segments.length ? annotation.segments[annotation.segments.length - 1].end : 0
  setBase(annotation)
  state.hist = P.history(state.baseSegs)
  await restoreDrafts(annotation)

  const peaks = peaksDoc ? peaksFrom(peaksDoc) : [new Float32Array(2)]
  if (!peaksDoc) banner('The waveform is not ready yet (the song is still being processed); segments can be edited.', 'info')
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

boot().catch((e) => { banner(`The editor failed to start: ${esc(e.message || e)}`, 'error'); console.error(e) })
