// The one fetch helper of the pages' ES modules: same-origin credentials, the CSRF header on writes,
// JSON bodies, and the API's error shape ({"error", "code"}) turned into a sentence to show.
//
//   const r = await request('/api/songs/3/', { method: 'PATCH', body: { title: 'x' } })
//   r.ok, r.status, r.data (parsed JSON or null), r.error (a sentence when !r.ok), r.etag

export function csrfToken () {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)
  if (m) return decodeURIComponent(m[1])
  const input = document.querySelector('input[name=csrfmiddlewaretoken]')
  return input ? input.value : ''
}

export async function request (url, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers }, signal }
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRFToken'] = csrfToken()
  if (body instanceof FormData) init.body = body
  else if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['Content-Type'] = 'application/json'
  }
  let res
  try {
    res = await fetch(url, init)
  } catch (e) {
    if (e && e.name === 'AbortError') throw e
    return { ok: false, status: 0, data: null, error: 'The server could not be reached; check the connection.', etag: null }
  }
  let data = null
  if (res.status !== 204) {
    try { data = await res.json() } catch (e) { data = null }
  }
  const error = res.ok ? '' : (data && data.error) || `The server answered HTTP ${res.status}.`
  return { ok: res.ok, status: res.status, data, error, etag: res.headers.get('ETag') }
}

/** Binary GET (ArrayBuffer); gzip Content-Encoding is undone by the browser. */
export async function requestBytes (url, { signal } = {}) {
  const res = await fetch(url, { credentials: 'same-origin', signal })
  if (!res.ok) {
    let data = null
    try { data = await res.json() } catch (e) { data = null }
    const err = new Error((data && data.error) || `The server answered HTTP ${res.status}.`)
    err.status = res.status
    err.code = data && data.code
    throw err
  }
  return res.arrayBuffer()
}
