// Playback: play / pause, play the selected segment, audition a boundary (one second either side),
// loop, speed, and moving the cursor.
import { $ } from './page.js'
import * as P from './partition.js'
import { state, current, selectedSegment, selectedBoundary } from './state.js'
import { ws } from './waveform.js'

const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2]

/** Called on every time update: ends (or loops) a segment or audition that reached its end. */
export function loopCheck (t) {
  const r = state.playRange
  if (!r || !ws.isPlaying()) return
  if (t >= r.end - 0.005) {
    if ($('chk-loop').checked) ws.setTime(r.start)
    else { ws.pause(); state.playRange = null }
  }
}

/** At the end of the song: start again when looping (and no segment is playing). */
export function loopSong () { if ($('chk-loop').checked && !state.playRange) ws.play(0) }

function playRange (start, end) {
  state.playRange = { start: Math.max(0, start), end: Math.min(state.duration, end) }
  ws.play(state.playRange.start)
}

export function playSelected () {
  const s = current()[selectedSegment()]
  playRange(s.start, s.end)
}

export function audition () {
  let b = selectedBoundary()
  if (b < 0) b = P.nearestBoundary(current(), ws.getCurrentTime())
  if (b < 0) return
  const t = current()[b].start
  playRange(t - 1, t + 1)
}

export function setRate (rate) {
  rate = Math.max(0.5, Math.min(2, rate))
  ws.setPlaybackRate(rate, true)
  $('sel-rate').value = String(rate)
}

/** One step slower (-1) or faster (+1) through RATES. */
export function stepRate (dir) {
  const i = RATES.indexOf(ws.getPlaybackRate())
  setRate(RATES[dir < 0 ? Math.max(0, i - 1) : Math.min(RATES.length - 1, i + 1)] || 1)
}

export function playPause () {
  if (ws.isPlaying()) { ws.pause(); return }
  state.playRange = null
  ws.play()
}

export function seekBy (seconds) {
  ws.setTime(Math.max(0, Math.min(state.duration, ws.getCurrentTime() + seconds)))
}

export function toggleLoop () { $('chk-loop').checked = !$('chk-loop').checked }
