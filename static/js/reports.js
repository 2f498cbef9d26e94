// Report pages: click a column heading of a table.sortable to sort its body (numbers by the cell's
// data-value, text otherwise; empty values always last). Footer rows (pooled totals) stay put.
// The comparison form on the list page needs two or more ticked reports. The detail page draws "what
// each corrected song bought": the project's models, x = verified songs used, y = accuracy and F1.

import { lineChart, svg, ticks } from './charts.js'

function cellValue (row, index, numeric) {
  const cell = row.children[index]
  if (!cell) return null
  const raw = cell.dataset.value ?? cell.textContent.trim()
  if (!numeric) return raw.toLowerCase()
  if (raw === '' || raw === 'None') return null
  const n = Number(raw)
  return Number.isFinite(n) ? n : null
}

function columnIndex (th) {
  // Index of the heading's column in the body rows, accounting for colspans in the same header row.
  let index = 0
  for (const sibling of th.parentElement.children) {
    if (sibling === th) return index
    index += sibling.colSpan || 1
  }
  return index
}

function sortBy (table, th) {
  const numeric = th.dataset.sort === 'num'
  const descending = th.getAttribute('aria-sort') === 'ascending'
  for (const other of table.querySelectorAll('thead th[aria-sort]')) other.removeAttribute('aria-sort')
  th.setAttribute('aria-sort', descending ? 'descending' : 'ascending')
  const index = columnIndex(th)
  const body = table.tBodies[0]
  const rows = [...body.rows]
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric)
    const y = cellValue(b, index, numeric)
    if (x === null && y === null) return 0
    if (x === null) return 1
    if (y === null) return -1
    const order = numeric ? x - y : x.localeCompare(y)
    return descending ? -order : order
  })
  body.append(...rows)
}

for (const table of document.querySelectorAll('table.sortable')) {
  for (const th of table.querySelectorAll('thead th[data-sort]')) {
    th.tabIndex = 0
    th.title = th.title || 'Sort by this column'
    th.addEventListener('click', () => sortBy(table, th))
    th.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sortBy(table, th) }
    })
  }
}

const compareForm = document.getElementById('compare-form')
if (compareForm) {
  compareForm.addEventListener('submit', (event) => {
    const picked = compareForm.querySelectorAll('input[name="id"]:checked').length
    if (picked < 2) {
      event.preventDefault()
      let note = compareForm.querySelector('.compare-note')
      if (!note) {
        note = document.createElement('span')
        note.className = 'compare-note error'
        document.getElementById('compare-button').after(note)
      }
      note.textContent = ' Tick at least two reports to compare.'
    }
  })
}

function drawLearning (box, points) {
  if (!box || !points || !points.length) return
  const xs = points.map((p) => p.songs)
  const lo = Math.min(0, ...xs), hi = Math.max(...xs, lo + 1)
  const values = points.flatMap((p) => [p.dev_accuracy, p.dev_f1, p.test_accuracy, p.test_f1]).filter((v) => v != null)
  const yMin = Math.max(0, Math.floor((Math.min(...values) - 0.05) * 10) / 10), yMax = 1
  const step = Math.max(1, Math.ceil((hi - lo) / 10))
  const xTicks = []
  for (let x = lo; x <= hi; x += step) xTicks.push(x)
  const series = (key, cls, label, dash) => ({
    cls, dash, axis: 'y',
    points: points.map((p) => ({ x: p.songs, y: p[key], data: { model: p.model, songs: p.songs },
      title: `${p.name}: ${p.songs} verified songs (${p.train} trained on, ${p.development} development); ${label} ${p[key] != null ? (100 * p[key]).toFixed(1) + '%' : '–'}` }))
  })
  const root = lineChart(box, {
    x: { min: lo, max: hi, label: 'verified songs used (trained on + development)', ticks: xTicks },
    y: { min: yMin, max: yMax, ticks: ticks(yMin, yMax), format: (v) => `${Math.round(100 * v)}%` },
    ariaLabel: `What each corrected song bought: ${points.length} models`,
    series: [
      series('dev_f1', 'f1', 'development F1', false),
      series('dev_accuracy', 'accuracy', 'development accuracy', false),
      series('test_f1', 'f1 test', 'test F1', true),
      series('test_accuracy', 'accuracy test', 'test accuracy', true)
    ]
  })
  const mine = Number(box.dataset.model)
  for (const dot of root.querySelectorAll(`circle.dot[data-model="${mine}"]`)) dot.classList.add('this-model')
  root.append(svg('desc', {}, points.map((p) => `${p.name}: ${p.songs} songs`).join('; ')))
  box.dataset.points = String(points.length)
}

const learningData = document.getElementById('learning-data')
if (learningData) drawLearning(document.getElementById('learning-curve'), JSON.parse(learningData.textContent))
