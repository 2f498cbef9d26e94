// Unit tests of static/js/editor/keymap.js: the editor's key -> action table.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { KEYMAP, keyAction, typingIn } from '../../static/js/editor/keymap.js'

const press = (key, mods = {}) => keyAction({ key, ...mods })

test('plain keys name their action, with the argument the action needs', () => {
  assert.deepEqual(press('s'), { action: 'split', arg: undefined })
  assert.deepEqual(press(' '), { action: 'playPause', arg: undefined })
  assert.deepEqual(press('v'), { action: 'setLabel', arg: 'vocal' })
  assert.deepEqual(press('n'), { action: 'setLabel', arg: 'non-vocal' })
  assert.deepEqual(press('+'), { action: 'zoom', arg: 2 })
  assert.deepEqual(press('_'), { action: 'zoom', arg: 0.5 })
  assert.deepEqual(press('['), { action: 'stepRate', arg: -1 })
  assert.deepEqual(press('Escape'), { action: 'escape', arg: undefined })
})

test('Shift changes the step of nudges, seeks and segment moves, not the action', () => {
  assert.deepEqual(press(','), { action: 'nudge', arg: -0.01 })
  assert.deepEqual(press(',', { shiftKey: true }), { action: 'nudge', arg: -0.1 })
  assert.deepEqual(press('>', { shiftKey: true }), { action: 'nudge', arg: 0.1 })
  assert.deepEqual(press('ArrowRight', { shiftKey: true }), { action: 'seekBy', arg: 5 })
  assert.deepEqual(press('ArrowLeft'), { action: 'seekBy', arg: -1 })
  assert.deepEqual(press('Tab', { shiftKey: true }), { action: 'nextSegment', arg: -1 })
})

test('Delete and Backspace both remove the selected boundary', () => {
  assert.equal(press('Delete').action, 'deleteBoundary')
  assert.equal(press('Backspace').action, 'deleteBoundary')
})

test('Ctrl or Cmd + S saves, Ctrl + Z undoes and Ctrl + Shift + Z redoes', () => {
  assert.equal(press('s', { ctrlKey: true }).action, 'save')
  assert.equal(press('S', { metaKey: true }).action, 'save')
  assert.equal(press('z', { ctrlKey: true }).action, 'undo')
  assert.equal(press('Z', { ctrlKey: true, shiftKey: true }).action, 'redo')
})

test('other Ctrl and Alt combinations and unknown keys are left to the browser', () => {
  assert.equal(press('s', { ctrlKey: true, altKey: true }), null)
  assert.equal(press('c', { ctrlKey: true }), null)
  assert.equal(press('t', { altKey: true }), null)
  assert.equal(press('q'), null)
  assert.equal(press('F5'), null)
})

test('every key of the table names an action with a name the editor knows', () => {
  const known = new Set(['playPause', 'split', 'toggle', 'setLabel', 'merge', 'deleteBoundary', 'nudge', 'snap',
    'undo', 'redo', 'selectBoundary', 'nextSegment', 'playSelected', 'audition', 'toggleLoop', 'stepRate', 'seekBy',
    'zoom', 'zoomFit', 'nextUnsure', 'nextDisagreement', 'toggleSpectrogram', 'toggleReference', 'toggleHistory',
    'help', 'escape'])
  for (const [key, { action }] of KEYMAP) assert.ok(known.has(action), `${key} -> ${action}`)
})

test('typing in a text field keeps the keys; a checkbox, select or button does not', () => {
  assert.equal(typingIn({ tagName: 'TEXTAREA' }), true)
  assert.equal(typingIn({ tagName: 'INPUT', type: 'text' }), true)
  assert.equal(typingIn({ tagName: 'INPUT', type: 'number' }), true)
  assert.equal(typingIn({ tagName: 'INPUT' }), true) // no type: a text field
  assert.equal(typingIn({ tagName: 'DIV', isContentEditable: true }), true)
  assert.equal(typingIn({ tagName: 'INPUT', type: 'checkbox' }), false)
  assert.equal(typingIn({ tagName: 'SELECT' }), false)
  assert.equal(typingIn({ tagName: 'BUTTON' }), false)
  assert.equal(typingIn(null), false)
})
