// Model registry page: confirm before switching the active model, highlight a model linked by #model-<id>.

for (const form of document.querySelectorAll('form.activate-form')) {
  form.addEventListener('submit', (event) => {
    const row = form.closest('tr')
    const name = row ? row.querySelector('strong').textContent : 'this model'
    if (!window.confirm(`Make “${name}” the active model? New detections in this project will use it.`)) event.preventDefault()
  })
}

const match = window.location.hash.match(/^#model-(\d+)$/)
if (match) {
  const row = document.querySelector(`tr[data-model="${match[1]}"]`)
  if (row) { row.classList.add('highlight'); row.scrollIntoView({ block: 'center' }) }
}
