// The editor page's fixed parts: the server's config (#editor-config), element lookup, the theme's
// colours, the lane heights, and the banner that tells what just happened.
export const cfg = JSON.parse(document.getElementById('editor-config').textContent)
export const $ = (id) => document.getElementById(id)
export const root = $('editor')

const css = getComputedStyle(document.documentElement)
export const color = (name, fallback) => (css.getPropertyValue(name) || fallback).trim()

// lane heights (CSS px), shared by the lanes and the PNG export
export const WAVE_H = 150
export const RULER_H = 22
export const REF_H = 18
export const PROB_H = 56
export const SPEC_H = 128

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]))

let bannerTimer = 0
/** Show `html` (escape what came from people with esc()) in the banner; hide it after `ms` if given. */
export function banner (html, kind = 'info', ms = 0) {
  const el = $('banner')
  el.className = `banner ${kind}`
  el.innerHTML = html
  el.hidden = false
  clearTimeout(bannerTimer)
  if (ms) bannerTimer = setTimeout(() => { el.hidden = true }, ms)
}
