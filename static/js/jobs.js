// Jobs pages: live list (/projects/<pid>/jobs/) and live job detail with log, cancel/retry and the
// training curve (/projects/<pid>/jobs/<id>/). Polls the JSON API every 1.5 s; no page reloads.

const POLL_MS = 1500;
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) return decodeURIComponent(m[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function api(url, options = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(), ...(options.headers || {}) },
    ...options,
  });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function formatDuration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function progressBar(fraction) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100);
  const bar = el("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct) });
  const fill = el("span");
  fill.style.width = `${pct}%`;
  bar.append(fill);
  return bar;
}

// -- the list ---------------------------------------------------------------------------------------

function jobRow(job, projectId) {
  const actions = el("td", { class: "row-actions" });
  if (job.can_cancel) actions.append(actionButton(job, "cancel", "Cancel", "danger small"));
  if (job.can_retry) actions.append(actionButton(job, "retry", "Retry", "small"));
  return el("tr", { "data-job": String(job.id), "data-state": job.state },
    el("td", {}, el("a", { href: `/projects/${projectId}/jobs/${job.id}/`, text: String(job.id) })),
    el("td", { text: job.kind_label }),
    el("td", { text: job.created_by || "system" }),
    el("td", {}, el("span", { class: `badge ${job.state}`, text: job.state })),
    el("td", {}, progressBar(job.progress), el("div", { class: "job-message muted", text: job.error || job.message || "" })),
    el("td", { class: "num", text: formatDuration(job.duration_seconds) }),
    el("td", { text: new Date(job.created_at).toLocaleString() }),
    actions,
  );
}

function actionButton(job, action, label, cls) {
  const button = el("button", { type: "button", class: cls, "data-action": action, text: label });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await api(`/api/jobs/${job.id}/${action}`, { method: "POST" });
      if (action === "retry" && result && result.url && document.getElementById("job-detail")) window.location = result.url;
    } catch (err) { alert(err.message); }
    finally { button.disabled = false; refresh(); }
  });
  return button;
}

let refresh = () => {};

function initList(table) {
  const projectId = table.dataset.project;
  const tbody = table.querySelector("tbody");
  const render = (jobs) => {
    tbody.replaceChildren(...(jobs.length ? jobs.map((j) => jobRow(j, projectId))
      : [el("tr", { class: "empty" }, el("td", { colspan: "8", class: "muted", text: "No jobs yet." }))]));
  };
  const initial = document.getElementById("jobs-data");
  if (initial) render(JSON.parse(initial.textContent));
  let timer = null;
  refresh = async () => {
    clearTimeout(timer);
    try {
      const page = await api(`/api/jobs/?project=${projectId}&limit=100`);
      render(page.results);
    } catch (err) { console.warn("jobs poll failed", err); }
    timer = setTimeout(refresh, POLL_MS);
  };
  timer = setTimeout(refresh, POLL_MS);
  const scope = document.querySelectorAll("#detect-form input[name=song_ids]");
  scope.forEach((box) => box.addEventListener("change", () => {
    const selected = document.querySelector("#detect-form input[name=scope][value=selected]");
    if (selected) selected.checked = true;
  }));
}

// -- the training curve ------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

export function drawCurve(container, curve, epochs) {
  if (!curve || !curve.length) return;
  const W = 640, H = 260, L = 52, R = 52, T = 14, B = 36;
  const n = Math.max(epochs || 0, curve[curve.length - 1].epoch, 2);
  const losses = curve.map((p) => p.loss);
  const lossMax = Math.max(...losses) * 1.1 || 1, lossMin = Math.min(0, Math.min(...losses));
  const x = (e) => L + ((e - 1) / Math.max(1, n - 1)) * (W - L - R);
  const yl = (v) => T + (1 - (v - lossMin) / (lossMax - lossMin || 1)) * (H - T - B);
  const yf = (v) => T + (1 - v) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "curve-svg", role: "img",
    "aria-label": `Training curve: ${curve.length} of ${n} epochs` });
  // grid + axes
  for (let i = 0; i <= 4; i++) {
    const y = T + (i / 4) * (H - T - B);
    root.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: L - 6, y: y + 4, class: "tick loss", "text-anchor": "end" }, (lossMax - (i / 4) * (lossMax - lossMin)).toFixed(2)));
    root.append(svg("text", { x: W - R + 6, y: y + 4, class: "tick f1" }, (1 - i / 4).toFixed(2)));
  }
  const step = Math.max(1, Math.ceil(n / 10));
  for (let e = 1; e <= n; e += step) {
    root.append(svg("text", { x: x(e), y: H - B + 16, class: "tick", "text-anchor": "middle" }, String(e)));
  }
  root.append(svg("text", { x: (L + W - R) / 2, y: H - 4, class: "axis-label", "text-anchor": "middle" }, "epoch"));
  const line = (pts, cls) => svg("polyline", { points: pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" "), class: cls });
  root.append(line(curve.map((p) => [x(p.epoch), yl(p.loss)]), "line loss"));
  root.append(line(curve.map((p) => [x(p.epoch), yf(p.val_f1)]), "line f1"));
  for (const p of curve) {
    const a = svg("circle", { cx: x(p.epoch), cy: yl(p.loss), r: 3.5, class: "dot loss" });
    a.append(svg("title", {}, `epoch ${p.epoch}: loss ${p.loss.toFixed(4)}`));
    const b = svg("circle", { cx: x(p.epoch), cy: yf(p.val_f1), r: 3.5, class: "dot f1", "data-epoch": p.epoch });
    b.append(svg("title", {}, `epoch ${p.epoch}: validation F1 ${p.val_f1.toFixed(3)}`));
    root.append(a, b);
  }
  container.replaceChildren(root);
  container.dataset.points = String(curve.length);
}

// -- one job --------------------------------------------------------------------------------------

// The "Training job 9 queued." message shown after starting a job follows the job: running, then its
// final state (the page never claims "queued" about a job that has finished).
function updateQueuedBanner(job) {
  const note = document.querySelector(`.messages li.job-${job.id}`);
  if (!note) return;
  const pct = Math.round((job.progress || 0) * 100);
  const noun = { train: "Training", detect: "Detection", process: "Processing", evaluate: "Evaluation", import: "Import" };
  const what = `${noun[job.kind] || job.kind_label} job ${job.id}`;
  note.textContent = job.state === "queued" ? `${what} queued; waiting for a worker.`
    : job.state === "running" ? `${what} is running (${pct}%).`
      : job.state === "succeeded" ? `${what} succeeded.`
        : job.state === "failed" ? `${what} failed: ${job.error || "see the log below"}.`
          : `${what} was cancelled.`;
  note.dataset.state = job.state;
  note.classList.toggle("error", job.state === "failed" || job.state === "cancelled");
}

function initDetail(root) {
  const jobId = root.dataset.job, projectId = root.dataset.project;
  const field = (name) => root.querySelector(`[data-field=${name}]`);
  const curveBox = document.getElementById("curve");
  let lastLog = null;

  const render = (job) => {
    const badge = field("state");
    badge.className = `badge ${job.state}`;
    badge.textContent = job.state;
    const pct = Math.round((job.progress || 0) * 100);
    const bar = field("progressbar");
    bar.setAttribute("aria-valuenow", String(pct));
    bar.querySelector("span").style.width = `${pct}%`;
    field("percent").textContent = `${pct}%`;
    field("message").textContent = job.message || "";
    field("duration").textContent = formatDuration(job.duration_seconds);
    field("worker").textContent = job.worker || "–";
    const err = field("error");
    err.hidden = !job.error;
    err.textContent = job.error || "";
    if (job.log !== lastLog) {
      const log = field("log");
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      log.textContent = job.log || "";
      if (atBottom) log.scrollTop = log.scrollHeight;
      lastLog = job.log;
    }
    root.querySelector("[data-button=cancel]").hidden = !job.can_cancel;
    root.querySelector("[data-button=retry]").hidden = !job.can_retry;
    const links = field("links");
    links.replaceChildren();
    const r = job.result || {};
    if (r.model_id) links.append(el("a", { href: `/projects/${projectId}/models/#model-${r.model_id}`, class: "button", text: `Model: ${r.model_name || r.model_id}` }), " ");
    if (r.report_id) links.append(el("a", { href: `/projects/${projectId}/reports/${r.report_id}/`, class: "button", text: "Evaluation report" }), " ");
    if (r.activated) links.append(el("span", { class: "badge succeeded", text: "activated automatically" }));
    if (curveBox && r.curve) drawCurve(curveBox, r.curve, r.epochs || Number(curveBox.dataset.epochs));
    root.dataset.state = job.state;
    updateQueuedBanner(job);
  };

  const initial = document.getElementById("job-data");
  let job = initial ? JSON.parse(initial.textContent) : null;
  if (job) render(job);
  let timer = null;
  refresh = async () => {
    clearTimeout(timer);
    try {
      job = await api(`/api/jobs/${jobId}/`);
      render(job);
    } catch (err) { console.warn("job poll failed", err); }
    if (!job || !FINISHED.has(job.state)) timer = setTimeout(refresh, POLL_MS);
  };
  if (!job || !FINISHED.has(job.state)) timer = setTimeout(refresh, POLL_MS);

  for (const form of root.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = form.dataset.action;
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const result = await api(`/api/jobs/${jobId}/${action}`, { method: "POST" });
        if (action === "retry") { window.location = result.url; return; }
      } catch (err) { alert(err.message); }
      finally { button.disabled = false; }
      refresh();
    });
  }
}

const list = document.getElementById("jobs-table");
if (list) initList(list);
const detail = document.getElementById("job-detail");
if (detail) initDetail(detail);
