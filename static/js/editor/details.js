// The song's title, artist and album, edited in place (exports are named after the title).
import { api } from '../api.js'
import { $, cfg, banner } from './page.js'

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
