// Unsaved edits survive a reload: one draft per song and base revision in the browser's storage
// (localStorage), written after every change. And the one way the editor moves to a new base revision
// (after a save, a review step, an import, a conflict): forget the old draft, rebase, new history.
// No DOM; unit-tested with `node --test tests/js/` (test_drafts.mjs).
import * as P from './partition.js'
import { state, current, isDirty, setBase, changed } from './state.js'

let storage = globalThis.localStorage
/** The storage drafts live in (localStorage in the browser; tests hand in their own). */
export function useStorage (s) { storage = s }

const prefix = () => `singscope:draft:${state.songId}:`
export const draftKey = (rev) => prefix() + (rev && rev.id ? rev.id : 'none')

/** Keep the working partition as the base revision's draft, or drop the draft when nothing changed. */
export function draftSave () {
  try {
    if (isDirty()) storage.setItem(draftKey(state.base), JSON.stringify({ segments: current(), at: Date.now(), base: state.base && state.base.id }))
    else storage.removeItem(draftKey(state.base))
  } catch { /* storage full or disabled: nothing to do */ }
}

export function draftForget (key) {
  try { storage.removeItem(key) } catch { /* disabled: nothing to forget */ }
}

/** Every draft of this song: [{key, segments, at, base}]; an unreadable one is dropped. */
export function draftsOfSong () {
  const keys = []
  for (let i = 0; i < storage.length; i++) keys.push(storage.key(i)) // first: removing shifts the indexes
  const out = []
  for (const k of keys) {
    if (k && k.startsWith(prefix())) {
      try { out.push({ key: k, ...JSON.parse(storage.getItem(k)) }) } catch { storage.removeItem(k) }
    }
  }
  return out
}

/** On opening the song: the draft based on the current base revision (restore it, unless it equals
 * the base) and the newest draft based on another revision (offer the conflict path). */
export function draftsOnOpen () {
  const key = draftKey(state.base)
  const drafts = draftsOfSong()
  const same = drafts.find((d) => d.key === key)
  return {
    same: same && !P.samePartition(same.segments, state.baseSegs) ? same : null,
    stale: drafts.filter((d) => d.key !== key).sort((a, b) => b.at - a.at)[0] || null
  }
}

/** Move onto revision `rev`: its draft of the old base is forgotten, `history(hist)` (when given)
 * becomes the undo history, and everything that draws is told. */
export function rebase (rev, history) {
  draftForget(draftKey(state.base))
  setBase(rev)
  if (history) state.hist = history(state.hist)
  changed()
}
