// Jobs pages: live list (/projects/<pid>/jobs/) and live job detail with log, cancel/retry and the
// training curve (/projects/<pid>/jobs/<id>/). Polls the JSON API every 1.5 s; no page reloads.

import { api } from './api.js'
import { el } from './dom.js'
import { lineChart, ticks } from './charts.js'

const POLL_MS = 1500
const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])

function formatDuration (seconds) {
  if (seconds == null) return '–'
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60)
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

function progressBar (fraction) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100)
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(pct) })
  const fill = el('span')
  fill.style.width = `${pct}%`
  bar.append(fill)
  return bar
}

// -- the list ---------------------------------------------------------------------------------------

function jobRow (job, projectId) {
  const actions = el('td', { class: 'row-actions' })
  if (job.can_cancel) actions.append(actionButton(job, 'cancel', 'Cancel', 'danger small'))
  if (job.can_retry) actions.append(actionButton(job, 'retry', 'Retry', 'small'))
  return el('tr', { 'data-job': String(job.id), 'data-state': job.state },
    el('td', {}, el('a', { href: `/projects/${projectId}/jobs/${job.id}/`, text: String(job.id) })),
    el('td', { text: job.kind_label }),
    el('td', { text: job.created_by || 'system' }),
    el('td', {}, el('span', { class: `badge ${job.state}`, text: job.state })),
    el('td', {}, progressBar(job.progress), el('div', { class: 'job-message muted', text: job.error || job.message || '' })),
    el('td', { class: 'num', text: formatDuration(job.duration_seconds) }),
    el('td', { text: new Date(job.created_at).toLocaleString() }),
    actions
  )
}

function actionButton (job, action, label, cls) {
  const button = el('button', { type: 'button', class: cls, 'data-action': action, text: label })
  button.addEventListener('click', async () => {
    button.disabled = true
    try {
      const result = await api(`/api/jobs/${job.id}/${action}`, { method: 'POST' })
      if (action === 'retry' && result && result.url && document.getElementById('job-detail')) window.location = result.url
    } catch (err) { alert(err.message) }
    finally { button.disabled = false; refresh() }
  })
  return button
}

let refresh = () => {}

function initList (table) {
  const projectId = table.dataset.project
  const tbody = table.querySelector('tbody')
  const render = (jobs) => {
    tbody.replaceChildren(...(jobs.length ? jobs.map((j) => jobRow(j, projectId))
      : [el('tr', { class: 'empty' }, el('td', { colspan: '8', class: 'muted', text: 'No jobs yet.' }))]))
  }
  const initial = document.getElementById('jobs-data')
  if (initial) render(JSON.parse(initial.textContent))
  let timer = null
  refresh = async () => {
    clearTimeout(timer)
    try {
      const page = await api(`/api/jobs/?project=${projectId}&limit=100`)
      render(page.results)
    } catch (err) { console.warn('jobs poll failed', err) }
    timer = setTimeout(refresh, POLL_MS)
  }
  timer = setTimeout(refresh, POLL_MS)
  const scope = document.querySelectorAll('#detect-form input[name=song_ids]')
  scope.forEach((box) => box.addEventListener('change', () => {
    const selected = document.querySelector('#detect-form input[name=scope][value=selected]')
    if (selected) selected.checked = true
  }))
}

// -- the training curve ------------------------------------------------------------------------------

// Loss (left axis) and, when development songs judge the training, their F1 and accuracy (right axis),
// one point per finished epoch, redrawn as the job's result grows.
export function drawCurve (container, curve, epochs) {
  if (!curve || !curve.length) return
  const n = Math.max(epochs || 0, curve[curve.length - 1].epoch, 2)
  const losses = curve.map((p) => p.loss)
  const lossMax = Math.max(...losses) * 1.1 || 1, lossMin = Math.min(0, Math.min(...losses))
  const step = Math.max(1, Math.ceil(n / 10))
  const xTicks = []
  for (let e = 1; e <= n; e += step) xTicks.push(e)
  const point = (p, key, label, digits) => ({ x: p.epoch, y: p[key], data: { epoch: p.epoch },
    title: `epoch ${p.epoch}: ${label} ${p[key] != null ? p[key].toFixed(digits) : '–'}` })
  const judged = curve.some((p) => p.val_f1 != null)
  lineChart(container, {
    x: { min: 1, max: n, label: 'epoch', ticks: xTicks },
    y: { min: lossMin, max: lossMax, ticks: ticks(lossMin, lossMax), format: (v) => v.toFixed(2), cls: 'loss' },
    y2: { min: 0, max: 1, ticks: ticks(0, 1), format: (v) => v.toFixed(2), cls: 'f1' },
    ariaLabel: `Training curve: ${curve.length} of ${n} epochs`,
    series: [
      { cls: 'loss', axis: 'y', points: curve.map((p) => point(p, 'loss', 'loss', 4)) },
      ...(judged ? [
        { cls: 'f1', axis: 'y2', points: curve.map((p) => point(p, 'val_f1', 'development F1', 3)) },
        { cls: 'accuracy', axis: 'y2', dash: true, points: curve.map((p) => point(p, 'val_accuracy', 'development accuracy', 3)) }
      ] : [])
    ]
  })
  container.dataset.points = String(curve.length)
  container.dataset.judged = judged ? 'yes' : 'no'
}

// -- before promotion: the new model against the one in use --------------------------------------------

const pct = (v) => (v == null ? '–' : (100 * v).toFixed(1))

function figuresRow (label, songs, ours, theirs, theirName) {
  const row = (name, f, cls) => el('tr', { class: cls },
    el('td', { text: name }), el('td', { class: 'num', text: pct(f && f.accuracy) }), el('td', { class: 'num', text: pct(f && f.f1) }))
  const list = songs && songs.length ? songs.map((s) => s.title).join(', ') : 'none'
  return [
    el('tr', { class: 'group' }, el('th', { colspan: '3', text: `${label}: ${list}` })),
    row('new model', ours, 'new'),
    row(theirName, theirs, 'old')
  ]
}

function renderComparison (box, result) {
  const c = result.comparison
  if (!box || !c) return
  const songs = result.songs || {}
  const body = el('tbody')
  body.append(...figuresRow('Development songs (chose the threshold, judge promotion)', c.development.songs,
    c.development.new, c.development.start, `start model (${c.start_model})`))
  if (c.test && c.test.songs && c.test.songs.length) {
    body.append(...figuresRow('Test songs (scored only)', c.test.songs, c.test.new, c.test.active, `active model (${c.active_model})`))
  }
  const table = el('table', { class: 'compare-table' },
    el('thead', {}, el('tr', {}, el('th', { text: '' }), el('th', { class: 'num', text: 'Accuracy %' }), el('th', { class: 'num', text: 'F1 %' }))),
    body)
  const decision = result.auto_activation || {}
  const verdict = el('p', { class: `verdict ${c.promote ? 'better' : 'worse'}`, 'data-field': 'promote',
    text: c.promote ? 'Better or equal on the development songs.' : 'Not promoted: ' + (c.reason || '') })
  const activation = el('p', { class: 'muted', 'data-field': 'activation',
    text: result.activated ? `Activated automatically: ${decision.reason || ''}` : `Not activated automatically: ${decision.reason || '—'}` })
  const trained = el('p', { class: 'muted', 'data-field': 'trained-on',
    text: `Trained on ${(songs.train || []).length} songs: ${(songs.train || []).map((s) => s.title).join(', ') || 'none'}.` +
      (songs.development_from === 'held out automatically' ? ' Development songs held out automatically from the verified songs.' : '') })
  box.replaceChildren(table, verdict, activation, trained)
  box.closest('section').hidden = false
}

// -- after promotion: the songs whose decision changed most ------------------------------------------------

let changesTimer = null
async function renderChanges (box, modelId) {
  if (!box || !modelId) return
  clearTimeout(changesTimer)
  let data
  try { data = await api(`/api/models/${modelId}/changes`) } catch (err) { console.warn('changes failed', err); return }
  if (!data.activated) { box.closest('section').hidden = true; return }
  box.closest('section').hidden = false
  const parts = []
  const job = data.job
  if (job) {
    parts.push(el('p', { class: 'muted', 'data-field': 'redetect' },
      "Re-detection of the project's songs: ", el('a', { href: job.url, text: `job ${job.id}` }),
      ` ${job.state} (${Math.round((job.progress || 0) * 100)}%).`))
  }
  if (data.songs.length) {
    const list = el('ol', { class: 'changed-songs' })
    for (const s of data.songs.slice(0, 10)) {
      list.append(el('li', { 'data-song': String(s.song), 'data-changed': String(s.changed) },
        el('a', { href: s.editor, text: s.title }),
        ` — ${pct(s.changed)}% of the frames changed decision (${data.previous ? data.previous.name : 'previous model'} → ${data.model.name})`))
    }
    parts.push(list)
  } else {
    parts.push(el('p', { class: 'muted', text: data.previous ? "No song has both models' predictions yet." : 'No earlier model to compare with.' }))
  }
  box.replaceChildren(...parts)
  if (job && !FINISHED.has(job.state)) changesTimer = setTimeout(() => renderChanges(box, modelId), POLL_MS)
}

// -- a detect job: what happened to each song ---------------------------------------------------------------

const OUTCOME_TEXT = {
  proposed: 'new proposal (no person had worked on it)',
  beside_human_work: "prediction stored beside a person's work",
  unchanged: 'unchanged'
}

function renderDetectSongs (box, result) {
  if (!box || !result.per_song) return
  const rows = result.per_song.map((r) => el('tr', { 'data-song': String(r.song), 'data-outcome': r.outcome },
    el('td', {}, el('a', { href: `/projects/${box.dataset.project}/songs/${r.song}/`, text: r.title })),
    el('td', { text: OUTCOME_TEXT[r.outcome] || r.outcome }),
    el('td', { class: 'num', text: r.changed == null ? '–' : `${pct(r.changed)}%` })))
  box.replaceChildren(el('table', { class: 'detect-songs' },
    el('thead', {}, el('tr', {}, el('th', { text: 'Song' }), el('th', { text: 'What happened' }), el('th', { class: 'num', text: 'Decision changed' }))),
    el('tbody', {}, ...rows)))
  box.closest('section').hidden = false
}

// -- one job --------------------------------------------------------------------------------------

// The "Training job 9 queued." message shown after starting a job follows the job: running, then its
// final state (the page never claims "queued" about a job that has finished).
function updateQueuedBanner (job) {
  const note = document.querySelector(`.messages li.job-${job.id}`)
  if (!note) return
  const pct = Math.round((job.progress || 0) * 100)
  const noun = { train: 'Training', detect: 'Detection', process: 'Processing', evaluate: 'Evaluation', import: 'Import' }
  const what = `${noun[job.kind] || job.kind_label} job ${job.id}`
  note.textContent = job.state === 'queued' ? `${what} queued; waiting for a worker.`
    : job.state === 'running' ? `${what} is running (${pct}%).`
      : job.state === 'succeeded' ? `${what} succeeded.`
        : job.state === 'failed' ? `${what} failed: ${job.error || 'see the log below'}.`
          : `${what} was cancelled.`
  note.dataset.state = job.state
  note.classList.toggle('error', job.state === 'failed' || job.state === 'cancelled')
}

function initDetail (root) {
  const jobId = root.dataset.job, projectId = root.dataset.project
  const field = (name) => root.querySelector(`[data-field=${name}]`)
  const curveBox = document.getElementById('curve')
  let lastLog = null
  let changesStarted = false

  const render = (job) => {
    const badge = field('state')
    badge.className = `badge ${job.state}`
    badge.textContent = job.state
    const pct = Math.round((job.progress || 0) * 100)
    const bar = field('progressbar')
    bar.setAttribute('aria-valuenow', String(pct))
    bar.querySelector('span').style.width = `${pct}%`
    field('percent').textContent = `${pct}%`
    field('message').textContent = job.message || ''
    field('duration').textContent = formatDuration(job.duration_seconds)
    field('worker').textContent = job.worker || '–'
    const err = field('error')
    err.hidden = !job.error
    err.textContent = job.error || ''
    if (job.log !== lastLog) {
      const log = field('log')
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8
      log.textContent = job.log || ''
      if (atBottom) log.scrollTop = log.scrollHeight
      lastLog = job.log
    }
    root.querySelector('[data-button=cancel]').hidden = !job.can_cancel
    root.querySelector('[data-button=retry]').hidden = !job.can_retry
    const links = field('links')
    links.replaceChildren()
    const r = job.result || {}
    if (r.model_id) links.append(el('a', { href: `/projects/${projectId}/models/#model-${r.model_id}`, class: 'button', text: `Model: ${r.model_name || r.model_id}` }), ' ')
    if (r.report_id) links.append(el('a', { href: `/projects/${projectId}/reports/${r.report_id}/`, class: 'button', text: 'Evaluation report' }), ' ')
    if (r.activated) links.append(el('span', { class: 'badge succeeded', text: 'activated automatically' }))
    if (curveBox && r.curve) drawCurve(curveBox, r.curve, Number(curveBox.dataset.epochs) || r.epochs)
    if (r.comparison) renderComparison(document.getElementById('comparison'), r)
    if (job.kind === 'train' && r.model_id && !changesStarted) { changesStarted = true; renderChanges(document.getElementById('changes'), r.model_id) }
    if (job.kind === 'detect') renderDetectSongs(document.getElementById('detect-songs'), r)
    root.dataset.state = job.state
    updateQueuedBanner(job)
  }

  const initial = document.getElementById('job-data')
  let job = initial ? JSON.parse(initial.textContent) : null
  if (job) render(job)
  let timer = null
  refresh = async () => {
    clearTimeout(timer)
    try {
      job = await api(`/api/jobs/${jobId}/`)
      render(job)
    } catch (err) { console.warn('job poll failed', err) }
    if (!job || !FINISHED.has(job.state)) timer = setTimeout(refresh, POLL_MS)
  }
  if (!job || !FINISHED.has(job.state)) timer = setTimeout(refresh, POLL_MS)

  for (const form of root.querySelectorAll('form[data-action]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      const action = form.dataset.action
      const button = form.querySelector('button')
      button.disabled = true
      try {
        const result = await api(`/api/jobs/${jobId}/${action}`, { method: 'POST' })
        if (action === 'retry') { window.location = result.url; return }
      } catch (err) { alert(err.message) }
      finally { button.disabled = false }
      refresh()
    })
  }
}

const list = document.getElementById('jobs-table')
if (list) initList(list)
const detail = document.getElementById('job-detail')
if (detail) initDetail(detail)
