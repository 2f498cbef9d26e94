// Small form behaviours the pages used to write as inline handlers (the Content-Security-Policy
// allows no inline script): <select data-autosubmit> submits its form on change; a checkbox with
// data-check-all="<selector>" checks or clears every box matching the selector.
for (const select of document.querySelectorAll('select[data-autosubmit]')) {
  select.addEventListener('change', () => select.form.submit())
}
for (const box of document.querySelectorAll('input[data-check-all]')) {
  box.addEventListener('click', () => {
    for (const other of document.querySelectorAll(box.dataset.checkAll)) other.checked = box.checked
  })
}
