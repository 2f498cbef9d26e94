// Unit tests of static/js/editor/drafts.js (with state.js): unsaved edits kept per song and base
// revision, restored or offered as a conflict on opening, and the one rebase onto a new revision.
import assert from 'node:assert/strict'
import { beforeEach, test } from 'node:test'

import * as P from '../../static/js/editor/partition.js'
import { state, on, setBase, edit } from '../../static/js/editor/state.js'
import { draftKey, draftSave, draftsOfSong, draftsOnOpen, rebase, useStorage } from '../../static/js/editor/drafts.js'

/** The part of the Storage interface drafts use, in memory. */
class MemoryStorage {
  constructor () { this.items = new Map() }
  get length () { return this.items.size }
  key (i) { return [...this.items.keys()][i] ?? null }
  getItem (k) { return this.items.has(k) ? this.items.get(k) : null }
  setItem (k, v) { this.items.set(k, String(v)) }
  removeItem (k) { this.items.delete(k) }
}

const D = 10
const rev = (id, number, segments) => ({ id, number, segments })
const R1 = rev(1, 1, [{ start: 0, end: 4, label: 'non-vocal' }, { start: 4, end: D, label: 'vocal' }])
const R2 = rev(2, 2, [{ start: 0, end: 5, label: 'non-vocal' }, { start: 5, end: D, label: 'vocal' }])
let storage
let changes = 0
on('changed', () => { changes++ })

beforeEach(() => {
  storage = new MemoryStorage()
  useStorage(storage)
  state.songId = 7
  state.duration = D
  setBase(R1)
  state.hist = P.history(state.baseSegs)
  state.sel = null
  changes = 0
})

test('a draft is keyed by song and base revision', () => {
  assert.equal(draftKey(R1), 'singscope:draft:7:1')
  assert.equal(draftKey({ id: null }), 'singscope:draft:7:none')
  assert.equal(draftKey(null), 'singscope:draft:7:none')
})

test('an edit is kept as the base revision\'s draft, and undoing back to the base drops it', () => {
  edit(P.toggle(state.hist.present, 0))
  draftSave()
  const saved = JSON.parse(storage.getItem('singscope:draft:7:1'))
  assert.equal(saved.base, 1)
  assert.deepEqual(saved.segments.map((s) => s.label), ['vocal', 'vocal'])
  state.hist = P.undo(state.hist)
  draftSave()
  assert.equal(storage.length, 0)
})

test('drafts of other songs are not this song\'s; an unreadable draft is dropped', () => {
  storage.setItem('singscope:draft:8:1', JSON.stringify({ segments: [], at: 1, base: 1 }))
  storage.setItem('singscope:draft:7:3', '{not json')
  storage.setItem('singscope:draft:7:1', JSON.stringify({ segments: R2.segments, at: 5, base: 1 }))
  assert.deepEqual(draftsOfSong().map((d) => d.key), ['singscope:draft:7:1'])
  assert.equal(storage.getItem('singscope:draft:7:3'), null)
  assert.notEqual(storage.getItem('singscope:draft:8:1'), null)
})

test('on opening: the draft of the current base is restored, the newest draft of another base is stale', () => {
  storage.setItem('singscope:draft:7:1', JSON.stringify({ segments: R2.segments, at: 5, base: 1 }))
  storage.setItem('singscope:draft:7:none', JSON.stringify({ segments: R2.segments, at: 3, base: null }))
  storage.setItem('singscope:draft:7:9', JSON.stringify({ segments: R2.segments, at: 4, base: 9 }))
  const { same, stale } = draftsOnOpen()
  assert.equal(same.key, 'singscope:draft:7:1')
  assert.equal(stale.key, 'singscope:draft:7:9')
})

test('a draft equal to its base is nothing to restore', () => {
  storage.setItem('singscope:draft:7:1', JSON.stringify({ segments: R1.segments, at: 5, base: 1 }))
  assert.deepEqual(draftsOnOpen(), { same: null, stale: null })
})

test('rebase forgets the old base\'s draft, moves the base, sets the history, and tells once', () => {
  edit(P.toggle(state.hist.present, 0))
  draftSave()
  changes = 0
  rebase(R2, () => P.history(P.fromSegments(R2.segments, D)))
  assert.equal(storage.getItem('singscope:draft:7:1'), null)
  assert.equal(state.base, R2)
  assert.deepEqual(state.baseSegs, P.fromSegments(R2.segments, D))
  assert.deepEqual(state.hist, P.history(P.fromSegments(R2.segments, D)))
  assert.equal(changes, 1)
})

test('rebase without a history keeps the edits (a review step moves only the base)', () => {
  edit(P.toggle(state.hist.present, 1))
  const present = state.hist.present
  rebase(R2)
  assert.equal(state.hist.present, present)
  assert.equal(state.base, R2)
})
