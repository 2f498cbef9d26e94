// Small SVG line charts for the pages' ES modules (no library, nothing inline: the pages' strict CSP).
//
//   lineChart(container, {
//     x: { min, max, label, ticks: [1, 2, 3], format: (v) => String(v) },
//     y: { min, max, label, ticks, format, cls },        // left axis
//     y2: { ... },                                         // optional right axis
//     series: [{ cls: 'f1', axis: 'y2', dash: false, points: [{ x, y, title, data: { epoch: 3 } }] }],
//     ariaLabel: 'Training curve',
//   })
//
// Each series is a polyline (class "line <cls>") and one circle per point (class "dot <cls>", data-*
// attributes from point.data, a <title> tooltip), so tests and people can read the values back.

const SVG = 'http://www.w3.org/2000/svg'

export function svg (tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  if (text != null) node.textContent = text
  return node
}

export function lineChart (container, { x, y, y2, series, ariaLabel, width = 640, height = 260 }) {
  const W = width; const H = height; const L = 56; const R = y2 ? 56 : 16; const T = 14; const B = 38
  const sx = (v) => L + ((v - x.min) / ((x.max - x.min) || 1)) * (W - L - R)
  const scale = (axis) => (v) => T + (1 - (v - axis.min) / ((axis.max - axis.min) || 1)) * (H - T - B)
  const sy = scale(y); const sy2 = y2 ? scale(y2) : null
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'curve-svg', role: 'img', 'aria-label': ariaLabel || '' })
  const fmt = (axis) => axis.format || ((v) => String(v))
  for (const t of y.ticks || []) {
    root.append(svg('line', { x1: L, x2: W - R, y1: sy(t), y2: sy(t), class: 'grid' }))
    root.append(svg('text', { x: L - 6, y: sy(t) + 4, class: `tick ${y.cls || ''}`, 'text-anchor': 'end' }, fmt(y)(t)))
  }
  if (y2) {
    for (const t of y2.ticks || []) {
      root.append(svg('text', { x: W - R + 6, y: sy2(t) + 4, class: `tick ${y2.cls || ''}` }, fmt(y2)(t)))
    }
  }
  for (const t of x.ticks || []) {
    root.append(svg('text', { x: sx(t), y: H - B + 16, class: 'tick', 'text-anchor': 'middle' }, fmt(x)(t)))
  }
  if (x.label) root.append(svg('text', { x: (L + W - R) / 2, y: H - 4, class: 'axis-label', 'text-anchor': 'middle' }, x.label))
  if (y.label) {
    root.append(svg('text', { x: 12, y: (T + H - B) / 2, class: 'axis-label', 'text-anchor': 'middle',
      transform: `rotate(-90 12 ${(T + H - B) / 2})` }, y.label))
  }
  for (const s of series) {
    const ys = s.axis === 'y2' ? sy2 : sy
    const pts = s.points.filter((p) => p.y != null && Number.isFinite(p.y))
    if (!pts.length) continue
    root.append(svg('polyline', {
      points: pts.map((p) => `${sx(p.x).toFixed(1)},${ys(p.y).toFixed(1)}`).join(' '),
      class: `line ${s.cls}${s.dash ? ' dash' : ''}`
    }))
    for (const p of pts) {
      const dot = svg('circle', { cx: sx(p.x), cy: ys(p.y), r: 3.5, class: `dot ${s.cls}` })
      for (const [k, v] of Object.entries(p.data || {})) dot.setAttribute(`data-${k}`, String(v))
      if (p.title) dot.append(svg('title', {}, p.title))
      root.append(dot)
    }
  }
  container.replaceChildren(root)
  return root
}

/** ``n`` evenly spaced tick values from lo to hi. */
export function ticks (lo, hi, n = 4) {
  return Array.from({ length: n + 1 }, (_, i) => lo + (i / n) * (hi - lo))
}
