// The one network helper of the pages' ES modules: same-origin credentials, the CSRF header on writes,
// JSON bodies, and the API's error shape ({"error", "code"}) turned into one kind of Error. No other
// module calls fetch() or reads the CSRF token.
//
// One contract for every call:
//   - resolves to the parsed JSON body (null for an empty body or 204);
//   - rejects with an ApiError: .message is the server's one-line sentence (or a plain fallback),
//     .status the HTTP status (0 when the server could not be reached), .code the API's stable code,
//     .data the parsed error body (a 409 carries the latest revision there).
//   An aborted request rejects with the browser's AbortError, untouched.
//
//   const song = await api('/api/songs/3/', { method: 'PATCH', body: { title: 'x' } })
//   try { await api(url, { method: 'PUT', body, headers: { 'If-Match': etag } }) }
//   catch (err) { if (err.status === 409) showConflict(err.data); else show(err.message) }

export class ApiError extends Error {
  constructor (message, { status = 0, code = null, data = null } = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.data = data
  }
}

const UNREACHABLE = 'The server could not be reached; check the connection.'

export function csrfToken () {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)
  if (m) return decodeURIComponent(m[1])
  const input = document.querySelector('input[name=csrfmiddlewaretoken]')
  return input ? input.value : ''
}

function errorFrom (status, data) {
  const message = (data && data.error) || `The server answered HTTP ${status}.`
  return new ApiError(message, { status, code: (data && data.code) || null, data })
}

function parseJson (text) {
  if (!text) return null
  try { return JSON.parse(text) } catch { return null }
}

async function send (url, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers }, signal }
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRFToken'] = csrfToken()
  if (body instanceof FormData) init.body = body
  else if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['Content-Type'] = 'application/json'
  }
  try {
    return await fetch(url, init)
  } catch (err) {
    if (err && err.name === 'AbortError') throw err
    throw new ApiError(UNREACHABLE)
  }
}

/** A JSON request; `body` is an object (sent as JSON) or a FormData (sent as multipart). */
export async function api (url, options = {}) {
  const res = await send(url, options)
  const data = res.status === 204 ? null : parseJson(await res.text())
  if (!res.ok) throw errorFrom(res.status, data)
  return data
}

/** A binary GET (resolves to an ArrayBuffer); gzip Content-Encoding is undone by the browser. */
export async function apiBytes (url, { signal } = {}) {
  const res = await send(url, { signal, headers: { Accept: '*/*' } })
  if (!res.ok) throw errorFrom(res.status, parseJson(await res.text()))
  return res.arrayBuffer()
}

/** POST a FormData with upload progress (fetch cannot report it): onProgress(loaded, total) while the
 * bytes go up, onSent() once they are all sent; same resolve / reject contract as api(). */
export function apiUpload (url, form, { onProgress, onSent } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.withCredentials = true
    xhr.setRequestHeader('X-CSRFToken', csrfToken())
    xhr.setRequestHeader('Accept', 'application/json')
    if (onProgress) xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total) })
    if (onSent) xhr.upload.addEventListener('load', () => onSent())
    xhr.addEventListener('load', () => {
      const data = parseJson(xhr.responseText)
      if (xhr.status >= 200 && xhr.status < 300) resolve(data)
      else reject(errorFrom(xhr.status, data))
    })
    xhr.addEventListener('error', () => reject(new ApiError(UNREACHABLE)))
    xhr.send(form)
  })
}
