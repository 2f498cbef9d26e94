// Song list page: upload many files with per-file progress, list/search/sort/paginate, bulk actions,
// and live status while songs are processing (polls the JSON API every 2 s; no page reloads).
import { api, apiUpload } from './api.js'
import { el } from './dom.js'

const root = document.getElementById('songs-app')
const PROJECT = Number(root.dataset.project)
const MAX_MB = Number(root.dataset.maxUploadMb)
const PAGE = 50
const POLL_MS = 2000

const state = { search: '', status: '', split: '', ordering: '-created', offset: 0, count: 0, rows: [], selected: new Set() }
let pollTimer = null
let activeUploads = 0
const uploadNotes = new Map() // song id -> the upload row's note, kept in step with the song's status

const $ = (id) => document.getElementById(id)
function fmtDuration (s) {
  if (s === null || s === undefined) return '–'
  s = Math.round(s)
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60
  return (h ? `${h}:${String(m).padStart(2, '0')}` : `${m}`) + `:${String(sec).padStart(2, '0')}`
}
function fmtSize (bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`
}
function flash (message, isError = false) {
  const f = $('flash')
  f.textContent = message
  f.classList.toggle('error', isError)
  f.hidden = !message
}

// -- list ----------------------------------------------------------------------------------------
function listUrl (extra = {}) {
  const p = new URLSearchParams({ project: PROJECT, limit: PAGE, offset: state.offset, ordering: state.ordering })
  if (state.search) p.set('search', state.search)
  if (state.status) p.set('status', state.status)
  if (state.split) p.set('split', state.split)
  for (const [k, v] of Object.entries(extra)) p.set(k, v)
  return `/api/songs/?${p}`
}

async function load () {
  try {
    const data = await api(listUrl())
    state.rows = data.results
    state.count = data.count
    render()
  } catch (err) {
    flash(`Could not load the songs: ${err.message}`, true)
  }
  schedulePoll()
}

function statusCell (song) {
  const cell = el('td', { class: 'status' }, el('span', { class: `badge ${song.status}`, text: song.status }))
  if (song.status === 'processing') {
    const pct = Math.round(100 * ((song.job && song.job.progress) || 0))
    const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuenow': pct, 'aria-valuemin': 0, 'aria-valuemax': 100 }, el('span'))
    bar.firstChild.style.width = `${pct}%`
    cell.append(bar, el('span', { class: 'sub', text: (song.job && song.job.message) || 'Waiting for a worker' }))
  } else if (song.status === 'failed') {
    cell.append(el('span', { class: 'reason', text: song.error || 'Processing failed.' }))
  }
  return cell
}

function annotationText (a) {
  if (!a) return 'none'
  const who = a.origin.startsWith('model:') ? 'model' : a.origin.startsWith('import:') ? 'imported' : 'human'
  return `r${a.number} ${a.state} (${who})`
}

function noteUpload (song) {
  const note = uploadNotes.get(song.id)
  if (!note) return
  if (song.status === 'ready') { note.textContent = 'Ready'; uploadNotes.delete(song.id) }
  else if (song.status === 'failed') { note.textContent = `Processing failed: ${song.error}`; note.closest('li').classList.add('failed'); uploadNotes.delete(song.id) }
  else note.textContent = (song.job && song.job.message) ? `Processing: ${song.job.message}` : 'Uploaded; processing…'
}

function row (song) {
  noteUpload(song)
  const box = el('input', { type: 'checkbox', 'aria-label': `Select ${song.title}` })
  box.checked = state.selected.has(song.id)
  box.addEventListener('change', () => { box.checked ? state.selected.add(song.id) : state.selected.delete(song.id); updateBulk() })
  const title = el('td', { class: 'title' },
    el('a', { href: song.urls.editor, text: song.title }),
    el('span', { class: 'sub', title: song.original_name, text: `${song.original_name} · ${fmtSize(song.size_bytes)}` }))
  const vocal = el('td', { class: 'num' })
  if (song.vocal_share !== null) {
    const bar = el('span', { class: 'vocal-bar' }, el('span'))
    bar.firstChild.style.width = `${Math.round(song.vocal_share * 100)}%`
    vocal.append(`${Math.round(song.vocal_share * 100)}%`, bar)
  } else vocal.textContent = '–'
  const tr = el('tr', { 'data-song': song.id, 'data-status': song.status },
    el('td', { class: 'check' }, box), title,
    el('td', { text: (song.artist || '–') + (song.album ? ` · ${song.album}` : '') }),
    el('td', { class: 'num', text: fmtDuration(song.duration) }),
    statusCell(song),
    el('td', { text: song.split }),
    vocal,
    el('td', { class: 'annotation', text: annotationText(song.annotation) }),
    el('td', { class: 'model', text: song.model ? song.model.name : '–' }),
    el('td', { class: 'num muted', title: song.created_at, text: new Date(song.created_at).toLocaleDateString() }))
  return tr
}

function render () {
  const body = $('songs-body')
  body.replaceChildren()
  if (!state.rows.length) {
    const msg = state.search || state.status || state.split ? 'No song matches.' : 'No songs yet: drop audio files above to add some.'
    body.append(el('tr', { class: 'empty' }, el('td', { colspan: 10, class: 'muted', text: msg })))
  }
  for (const song of state.rows) body.append(row(song))
  $('song-count').textContent = `(${state.count})`
  const first = state.count ? state.offset + 1 : 0
  $('page-info').textContent = `${first}–${Math.min(state.offset + PAGE, state.count)} of ${state.count}`
  $('prev-page').disabled = state.offset === 0
  $('next-page').disabled = state.offset + PAGE >= state.count
  for (const b of document.querySelectorAll('.sort')) {
    b.classList.toggle('asc', state.ordering === b.dataset.sort)
    b.classList.toggle('desc', state.ordering === `-${b.dataset.sort}`)
  }
  const ids = new Set(state.rows.map((s) => s.id))
  for (const id of [...state.selected]) if (!ids.has(id)) state.selected.delete(id)
  $('select-all').checked = state.rows.length > 0 && state.selected.size === state.rows.length
  updateBulk()
}

function schedulePoll () {
  clearTimeout(pollTimer)
  const busy = state.rows.some((s) => s.status === 'processing') || activeUploads > 0
  if (busy && !document.hidden) pollTimer = setTimeout(poll, POLL_MS)
}

async function poll () {
  const processing = state.rows.filter((s) => s.status === 'processing').map((s) => s.id)
  try {
    if (processing.length) {
      const data = await api(`/api/songs/?project=${PROJECT}&ids=${processing.join(',')}&limit=${PAGE}`)
      const byId = new Map(data.results.map((s) => [s.id, s]))
      let gone = false
      state.rows = state.rows.map((s) => { if (!byId.has(s.id) && processing.includes(s.id)) gone = true; return byId.get(s.id) || s })
      if (gone) return load()
      for (const song of data.results) {
        const old = document.querySelector(`tr[data-song="${song.id}"]`)
        if (old) old.replaceWith(row(song))
      }
    }
  } catch { /* transient: try again at the next tick */ }
  schedulePoll()
}
document.addEventListener('visibilitychange', schedulePoll)

// -- upload --------------------------------------------------------------------------------------
function uploadOne (file) {
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, el('span'))
  const note = el('span', { class: 'note', text: 'Waiting…' })
  const item = el('li', { 'data-file': file.name }, el('span', { class: 'name', title: file.name, text: file.name }), bar, note)
  $('uploads').append(item)
  const setProgress = (fraction) => { bar.firstChild.style.width = `${Math.round(fraction * 100)}%`; bar.setAttribute('aria-valuenow', Math.round(fraction * 100)) }
  const fail = (message) => { item.classList.add('failed'); note.textContent = message }
  if (file.size > MAX_MB * 1048576) {
    fail(`Larger than the ${MAX_MB} MB upload limit (${fmtSize(file.size)}).`)
    return Promise.resolve(null)
  }
  const form = new FormData()
  form.append('project', PROJECT)
  form.append('file', file, file.name)
  return apiUpload('/api/songs/', form, {
    onProgress: (loaded, total) => { setProgress(loaded / total); note.textContent = `${fmtSize(loaded)} of ${fmtSize(total)}` },
    onSent: () => { note.textContent = 'Checking the audio…' }
  }).then((body) => {
    if (!body) throw new Error('Upload failed (no song in the answer).')
    setProgress(1)
    item.classList.add('done')
    note.textContent = 'Uploaded; processing…'
    uploadNotes.set(body.id, note)
    return body
  }).catch((err) => {
    if (err.status === 0) fail('The connection failed during the upload.')
    else if (err.status && !(err.data && err.data.error)) fail(`Upload failed (HTTP ${err.status}).`)
    else fail(err.message)
    return null
  })
}

async function uploadAll (files) {
  const list = [...files].filter((f) => f.size !== undefined)
  if (!list.length) return
  activeUploads += list.length
  // Two at a time: the list fills up quickly without flooding the server.
  const queue = [...list]
  const worker = async () => {
    while (queue.length) {
      const file = queue.shift()
      const song = await uploadOne(file)
      activeUploads -= 1
      if (song) await load()
    }
  }
  await Promise.all([worker(), worker()])
  schedulePoll()
}

const dropzone = $('dropzone')
if (dropzone) {
  for (const type of ['dragenter', 'dragover']) {
    dropzone.addEventListener(type, (e) => { e.preventDefault(); dropzone.classList.add('over') })
  }
  for (const type of ['dragleave', 'drop']) {
    dropzone.addEventListener(type, (e) => { e.preventDefault(); if (type === 'drop' || e.target === dropzone) dropzone.classList.remove('over') })
  }
  dropzone.addEventListener('drop', (e) => uploadAll(e.dataTransfer.files))
  $('file-input').addEventListener('change', (e) => { uploadAll(e.target.files); e.target.value = '' })
  // Dropping a file elsewhere on the page must not navigate away from it.
  window.addEventListener('dragover', (e) => e.preventDefault())
  window.addEventListener('drop', (e) => e.preventDefault())
}

// -- controls ------------------------------------------------------------------------------------
let searchTimer = null
$('search').addEventListener('input', (e) => {
  clearTimeout(searchTimer)
  searchTimer = setTimeout(() => { state.search = e.target.value.trim(); state.offset = 0; load() }, 250)
})
$('status-filter').addEventListener('change', (e) => { state.status = e.target.value; state.offset = 0; load() })
$('split-filter').addEventListener('change', (e) => { state.split = e.target.value; state.offset = 0; load() })
for (const b of document.querySelectorAll('.sort')) {
  b.addEventListener('click', () => {
    const key = b.dataset.sort
    state.ordering = state.ordering === key ? `-${key}` : key
    state.offset = 0
    load()
  })
}
$('prev-page').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); load() })
$('next-page').addEventListener('click', () => { state.offset += PAGE; load() })
$('select-all').addEventListener('change', (e) => {
  state.selected = new Set(e.target.checked ? state.rows.map((s) => s.id) : [])
  render()
})

function updateBulk () {
  $('bulk').hidden = state.selected.size === 0
  $('bulk-count').textContent = `${state.selected.size} selected`
}

async function bulk (action, extra = {}) {
  const ids = [...state.selected]
  try {
    const result = await api('/api/songs/bulk', { method: 'POST', body: { ids, action, ...extra } })
    if (action === 'detect') flash(`Detection queued as job ${result.job.id} for ${result.job.params.song_ids.length} song(s).`)
    else if (action === 'delete') flash(`Deleted ${result.deleted} song(s).`)
    else flash(`Set the split of ${result.updated} song(s).`)
    state.selected.clear()
    load()
  } catch (err) {
    flash(err.message, true)
  }
}
$('bulk-set-split')?.addEventListener('click', () => {
  const split = $('bulk-split').value
  if (!split) { flash('Choose a split in the menu first; nothing was changed.', true); $('bulk-split').focus(); return }
  bulk('set_split', { split })
})
$('bulk-detect')?.addEventListener('click', () => bulk('detect'))
$('bulk-delete')?.addEventListener('click', () => {
  const n = state.selected.size
  if (window.confirm(`Delete ${n} song(s) with their annotations and files? This cannot be undone.`)) bulk('delete')
})

load()
