// Unit tests of static/js/api.js, the pages' one network contract: resolves to the parsed JSON body,
// rejects with an ApiError carrying the status, the API's code, the server's sentence and the body.
import assert from 'node:assert/strict'
import { beforeEach, test } from 'node:test'

import { api, apiBytes, ApiError } from '../../static/js/api.js'

let calls
let answer
globalThis.document = { cookie: 'sessionid=x; csrftoken=tok%3D1', querySelector: () => null }

beforeEach(() => {
  calls = []
  answer = () => new Response(JSON.stringify({ id: 3 }), { status: 200, headers: { 'Content-Type': 'application/json' } })
  globalThis.fetch = async (url, init) => { calls.push({ url, init }); return answer() }
})

const json = (status, body) => () => new Response(body === undefined ? null : JSON.stringify(body), { status })

test('a GET resolves to the parsed body, same-origin, asking for JSON, without a CSRF header', async () => {
  assert.deepEqual(await api('/api/songs/3/'), { id: 3 })
  const { url, init } = calls[0]
  assert.equal(url, '/api/songs/3/')
  assert.equal(init.method, 'GET')
  assert.equal(init.credentials, 'same-origin')
  assert.equal(init.headers.Accept, 'application/json')
  assert.equal(init.headers['X-CSRFToken'], undefined)
})

test('a write sends the CSRF token from the cookie, an object body as JSON, and keeps extra headers', async () => {
  await api('/api/songs/3/', { method: 'PATCH', body: { title: 'x' }, headers: { 'If-Match': '"7"' } })
  const { init } = calls[0]
  assert.equal(init.headers['X-CSRFToken'], 'tok=1')
  assert.equal(init.headers['Content-Type'], 'application/json')
  assert.equal(init.headers['If-Match'], '"7"')
  assert.equal(init.body, '{"title":"x"}')
})

test('a FormData body goes as it is (the browser sets the multipart type)', async () => {
  const form = new FormData()
  form.append('file', 'x')
  await api('/api/songs/3/annotation', { method: 'POST', body: form })
  assert.equal(calls[0].init.body, form)
  assert.equal(calls[0].init.headers['Content-Type'], undefined)
})

test('204 and an empty body resolve to null', async () => {
  answer = json(204)
  assert.equal(await api('/x', { method: 'DELETE' }), null)
  answer = () => new Response('', { status: 200 })
  assert.equal(await api('/x'), null)
})

test('an API error rejects with the server\'s sentence, its status, code and body', async () => {
  const body = { error: 'Someone saved first.', code: 'conflict', latest: { id: 9 } }
  answer = json(409, body)
  await assert.rejects(api('/x', { method: 'PUT', body: {} }), (err) => {
    assert.ok(err instanceof ApiError)
    assert.equal(err.message, 'Someone saved first.')
    assert.equal(err.status, 409)
    assert.equal(err.code, 'conflict')
    assert.deepEqual(err.data, body)
    return true
  })
})

test('an error without the API\'s shape still says which status came back', async () => {
  answer = () => new Response('<html>Bad gateway</html>', { status: 502 })
  await assert.rejects(api('/x'), { name: 'ApiError', status: 502, code: null, message: 'The server answered HTTP 502.' })
})

test('an unreachable server rejects with status 0; an abort passes through untouched', async () => {
  globalThis.fetch = async () => { throw new TypeError('Failed to fetch') }
  await assert.rejects(api('/x'), { name: 'ApiError', status: 0, message: 'The server could not be reached; check the connection.' })
  globalThis.fetch = async () => { throw new DOMException('aborted', 'AbortError') }
  await assert.rejects(api('/x'), { name: 'AbortError' })
})

test('apiBytes resolves to the bytes, and rejects like api() on an error', async () => {
  answer = () => new Response(new Uint8Array([1, 2, 3]), { status: 200 })
  assert.deepEqual([...new Uint8Array(await apiBytes('/tile'))], [1, 2, 3])
  answer = json(404, { error: 'No spectrogram.', code: 'not_found' })
  await assert.rejects(apiBytes('/tile'), { status: 404, code: 'not_found', message: 'No spectrogram.' })
})
