// The editor's keyboard: one table from a key to an action name (and its argument, which may depend
// on Shift). actions.js holds what each name does; the help dialog in the template lists the same
// keys. No DOM; unit-tested with `node --test tests/js/` (test_keymap.mjs).
import { VOCAL, NON_VOCAL } from './partition.js'

// [keys, action, argument or [argument, argument with Shift]]
const TABLE = [
  [[' '], 'playPause'],
  [['s'], 'split'],
  [['t'], 'toggle'],
  [['v'], 'setLabel', VOCAL],
  [['n'], 'setLabel', NON_VOCAL],
  [['m'], 'merge'],
  [['Delete', 'Backspace'], 'deleteBoundary'],
  [[',', '<'], 'nudge', [-0.01, -0.1]],
  [['.', '>'], 'nudge', [0.01, 0.1]],
  [['g'], 'snap'],
  [['z'], 'undo'],
  [['y'], 'redo'],
  [['b'], 'selectBoundary'],
  [['Tab'], 'nextSegment', [1, -1]],
  [['p'], 'playSelected'],
  [['a'], 'audition'],
  [['l'], 'toggleLoop'],
  [['['], 'stepRate', -1],
  [[']'], 'stepRate', 1],
  [['ArrowLeft'], 'seekBy', [-1, -5]],
  [['ArrowRight'], 'seekBy', [1, 5]],
  [['+', '='], 'zoom', 2],
  [['-', '_'], 'zoom', 0.5],
  [['0'], 'zoomFit'],
  [['u'], 'nextUnsure'],
  [['d'], 'nextDisagreement'],
  [['f'], 'toggleSpectrogram'],
  [['r'], 'toggleReference'],
  [['h'], 'toggleHistory'],
  [['?'], 'help'],
  [['Escape'], 'escape']
]

export const KEYMAP = new Map()
for (const [keys, action, arg] of TABLE) for (const key of keys) KEYMAP.set(key, { action, arg })

/** The action a key press asks for: {action, arg}, or null when the key means nothing here.
 * Ctrl (or Cmd) + S saves and Ctrl + Z / Ctrl + Shift + Z undo / redo; any other Ctrl or Alt
 * combination is left to the browser. */
export function keyAction ({ key, ctrlKey = false, metaKey = false, altKey = false, shiftKey = false }) {
  const ctrl = ctrlKey || metaKey
  if (ctrl && !altKey && (key === 's' || key === 'S')) return { action: 'save', arg: undefined }
  if (ctrl && (key === 'z' || key === 'Z')) return { action: shiftKey ? 'redo' : 'undo', arg: undefined }
  if (ctrl || altKey) return null
  const entry = KEYMAP.get(key)
  if (!entry) return null
  return { action: entry.action, arg: Array.isArray(entry.arg) ? entry.arg[shiftKey ? 1 : 0] : entry.arg }
}

// Only text entry keeps the keys; a checkbox, select or button that has focus does not.
const TEXT_TYPES = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'time', 'datetime-local', 'month', 'week'])

/** Whether `el` (the key event's target) is a place where one types text. */
export function typingIn (el) {
  if (!el || !el.tagName) return false
  const tag = el.tagName.toLowerCase()
  return tag === 'textarea' || el.isContentEditable || (tag === 'input' && TEXT_TYPES.has((el.type || 'text').toLowerCase()))
}
