// Redraw the lanes at the next animation frame, coalescing scroll / zoom / edit bursts. The entry
// module registers the painters in drawing order; each says when it has to run:
//   'relabel': after a zoom (the segment labels depend on px/s),
//   'view':    after a scroll or zoom (what is on screen moved),
//   'always':  also after an edit (what depends on the partition).

const painters = []
let frame = 0
let relabelDue = false
let viewDue = false

export function paintWith (when, paint) { painters.push({ when, paint }) }

/** An edit (`editOnly`) redraws only the 'always' painters; `relabel` also re-fits the labels. */
export function scheduleLanes (relabel = false, editOnly = false) {
  if (relabel) relabelDue = true
  if (!editOnly) viewDue = true
  if (frame) return
  frame = requestAnimationFrame(() => {
    frame = 0
    const due = { relabel: relabelDue, view: viewDue, always: true }
    relabelDue = false
    viewDue = false
    for (const { when, paint } of painters) if (due[when]) paint()
  })
}
