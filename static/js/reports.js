// Report pages: click a column heading of a table.sortable to sort its body (numbers by the cell's
// data-value, text otherwise; empty values always last). Footer rows (pooled totals) stay put.
// The comparison form on the list page needs two or more ticked reports.

function cellValue(row, index, numeric) {
  const cell = row.children[index];
  if (!cell) return null;
  const raw = cell.dataset.value ?? cell.textContent.trim();
  if (!numeric) return raw.toLowerCase();
  if (raw === "" || raw === "None") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

function columnIndex(th) {
  // Index of the heading's column in the body rows, accounting for colspans in the same header row.
  let index = 0;
  for (const sibling of th.parentElement.children) {
    if (sibling === th) return index;
    index += sibling.colSpan || 1;
  }
  return index;
}

function sortBy(table, th) {
  const numeric = th.dataset.sort === "num";
  const descending = th.getAttribute("aria-sort") === "ascending";
  for (const other of table.querySelectorAll("thead th[aria-sort]")) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const index = columnIndex(th);
  const body = table.tBodies[0];
  const rows = [...body.rows];
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric);
    const y = cellValue(b, index, numeric);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    const order = numeric ? x - y : x.localeCompare(y);
    return descending ? -order : order;
  });
  body.append(...rows);
}

for (const table of document.querySelectorAll("table.sortable")) {
  for (const th of table.querySelectorAll("thead th[data-sort]")) {
    th.tabIndex = 0;
    th.title = th.title || "Sort by this column";
    th.addEventListener("click", () => sortBy(table, th));
    th.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, th); }
    });
  }
}

const compareForm = document.getElementById("compare-form");
if (compareForm) {
  compareForm.addEventListener("submit", (event) => {
    const picked = compareForm.querySelectorAll('input[name="id"]:checked').length;
    if (picked < 2) {
      event.preventDefault();
      let note = compareForm.querySelector(".compare-note");
      if (!note) {
        note = document.createElement("span");
        note.className = "compare-note error";
        document.getElementById("compare-button").after(note);
      }
      note.textContent = " Tick at least two reports to compare.";
    }
  });
}
