import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildExample, Client, newName, PASSWORD, variants, type Pair } from '../helpers/example-app.js'

/** Listens on a free loopback port; returns a fetch bound to it. */
async function listen (app: FastifyInstance): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return (path, init) => fetch(`${base}${path}`, init)
}

function json (body: unknown, token?: string): RequestInit {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  return { method: 'POST', headers, body: JSON.stringify(body) }
}

for (const variant of await variants(t)) {
  t.test(`${variant.name} store, over a real socket`, async (t) => {
    const http = await listen(await buildExample(t, variant))
    const username = newName()

    t.equal((await http('/auth/register', json({ username, password: PASSWORD }))).status, 201)
    const login = await http('/auth/login', json({ username, password: PASSWORD }))
    t.equal(login.status, 200)
    const pair = await login.json() as Pair
    const me = await http('/me', { headers: { authorization: `Bearer ${pair.accessToken}` } })
    t.equal(me.status, 200)
    t.equal((await me.json() as { username: string }).username, username)

    // Two connections racing with the same refresh token: the server sees them truly concurrently.
    const race = await Promise.all([http('/auth/refresh', json({ refreshToken: pair.refreshToken })), http('/auth/refresh', json({ refreshToken: pair.refreshToken }))])
    t.same(race.map((reply) => reply.status).sort(), [200, 401])

    const fresh = await http('/auth/login', json({ username, password: PASSWORD })).then(async (reply) => await reply.json() as Pair)
    t.equal((await http('/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${fresh.accessToken}` } })).status, 204,
      'logout without a body')
    t.equal((await http('/me', { headers: { authorization: `Bearer ${fresh.accessToken}` } })).status, 401)
  })
}

t.test('the OpenAPI document and the docs page', async (t) => {
  const http = await listen(await buildExample(t, { name: 'memory' }))
  const reply = await http('/docs/json')
  t.equal(reply.status, 200)
  const doc = await reply.json() as { openapi: string, paths: Record<string, unknown>, components: { securitySchemes: object } }
  t.match(doc.openapi, /^3\./)
  for (const path of ['/auth/register', '/auth/login', '/auth/refresh', '/auth/logout', '/auth/logout-all', '/auth/password', '/auth/sessions', '/auth/sessions/{id}', '/oauth/revoke', '/me']) {
    t.ok(path in doc.paths, `documents ${path}`)
  }
  t.has(doc.components.securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } })
  t.has(doc.paths['/auth/login'], { post: { requestBody: { content: { 'application/json': { schema: { required: ['username', 'password'] } } } } } },
    'generated from the TypeBox schemas')
  const page = await http('/docs')
  t.equal(page.status, 200)
  t.match(await page.text(), /swagger/i)
})

interface Operation {
  summary?: string
  requestBody?: unknown
  parameters?: unknown[]
  security?: unknown[]
  responses: Record<string, { description?: string }>
}

t.test('OpenAPI: every operation has a summary, every response a description, and the 400s, 401s and 429s are listed', async (t) => {
  for (const rateLimits of [undefined, false] as const) {
    const app = await buildExample(t, { name: 'memory' }, { refreshCookie: rateLimits === false, ...rateLimits === false ? { rateLimits } : {} })
    // Only operations sit under the paths of this document (no path-level fields), so each entry is one.
    const generated: unknown = app.swagger()
    const spec = generated as { paths: Record<string, Record<string, Operation>> }
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })))
    // GET /ws is not among them: @fastify/swagger leaves WebSocket routes out of an OpenAPI document.
    t.equal(operations.length, 13, 'every route is documented')
    for (const { name, operation } of operations) {
      t.match(operation.summary, /^\S.{10,}/, `${name}: a summary`)
      for (const [code, response] of Object.entries(operation.responses)) {
        t.ok(response.description !== undefined && response.description !== '' && response.description !== 'Default Response',
          `${name} ${code}: described (${response.description ?? 'no description'})`)
      }
      const codes = Object.keys(operation.responses)
      const takesInput = operation.requestBody !== undefined || (operation.parameters?.length ?? 0) > 0
      t.equal(codes.includes('400'), takesInput || operation.security !== undefined,
        `${name}: a 400 listed exactly when it takes a body, parameters or an Authorization header`)
      if (operation.security !== undefined) t.ok(codes.includes('401'), `${name}: the 401 of an authenticated route`)
    }
    for (const name of ['POST /auth/register', 'POST /auth/login', 'POST /auth/refresh', 'POST /oauth/revoke']) {
      const listed = operations.find((operation) => operation.name === name)?.operation.responses['429'] !== undefined
      t.equal(listed, rateLimits === undefined, `${name}: 429 listed ${rateLimits === undefined ? 'with' : 'only with'} the limits on`)
    }
  }
})

t.test('refreshCookie: the refresh token travels in an httpOnly, Secure, SameSite=Strict cookie', async (t) => {
  const http = await listen(await buildExample(t, { name: 'memory' }, { refreshCookie: true }))
  const username = newName()
  await http('/auth/register', json({ username, password: PASSWORD }))
  const login = await http('/auth/login', json({ username, password: PASSWORD }))
  const body = await login.json() as Partial<Pair>
  t.equal(body.refreshToken, undefined, 'not in the body')
  const setCookie = login.headers.get('set-cookie') ?? ''
  t.match(setCookie, /^refresh_token=[^;]+;/)
  for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/auth']) t.match(setCookie, attribute)
  const cookie = setCookie.split(';')[0] ?? ''

  const refreshed = await http('/auth/refresh', { method: 'POST', headers: { cookie } })
  t.equal(refreshed.status, 200, 'a refresh with the cookie and no body')
  const next = refreshed.headers.get('set-cookie')?.split(';')[0] ?? ''
  t.not(next, cookie, 'rotated')
  t.equal((await http('/auth/refresh', { method: 'POST', headers: { cookie } })).status, 401, 'the old cookie is dead')
  t.equal((await http('/auth/refresh', { method: 'POST' })).status, 401, 'no cookie, no body: 401')

  const again = await http('/auth/login', json({ username, password: PASSWORD }))
  const { accessToken } = await again.json() as Pair
  const cookieAgain = again.headers.get('set-cookie')?.split(';')[0] ?? ''
  const logout = await http('/auth/logout', { method: 'POST', headers: { cookie: cookieAgain, authorization: `Bearer ${accessToken}` } })
  t.equal(logout.status, 204)
  t.match(logout.headers.get('set-cookie') ?? '', /^refresh_token=;.*Expires=Thu, 01 Jan 1970/, 'the cookie is cleared')
  t.equal((await http('/auth/refresh', { method: 'POST', headers: { cookie: cookieAgain } })).status, 401, 'its session ended')
})

interface Documented {
  info: { description?: string }
  components: { securitySchemes: { bearer: { description?: string } } }
  paths: Record<string, Record<string, {
    requestBody?: { required?: boolean }
    responses: Record<string, { content?: Record<string, { example?: unknown, examples?: Record<string, { value: unknown }> }> }>
  }>>
}

/** The example replies the document gives for a response. */
function examplesOf (doc: Documented, path: string, method: string, code: number): unknown[] {
  const media = doc.paths[path]?.[method]?.responses[String(code)]?.content?.['application/json']
  return media?.example !== undefined ? [media.example] : Object.values(media?.examples ?? {}).map(({ value }) => value)
}

t.test('the docs page: optional bodies, how to authorize, and error examples that are the real replies', async (t) => {
  for (const refreshCookie of [false, true]) {
    const app = await buildExample(t, { name: 'memory' }, { refreshCookie })
    const doc = app.swagger() as unknown as Documented
    t.equal(doc.paths['/auth/logout']?.post?.requestBody?.required, false, 'logout: the body is optional')
    t.equal(doc.paths['/auth/refresh']?.post?.requestBody?.required, !refreshCookie, `refresh: a body ${refreshCookie ? 'optional with the cookie' : 'required'}`)
    t.equal(doc.paths['/auth/login']?.post?.requestBody?.required, true, 'login: required')
    for (const text of [doc.info.description, doc.components.securitySchemes.bearer.description]) {
      t.match(text, /POST \/auth\/login.*accessToken.*Authorize/s, 'says how to authorize')
    }
    // Every error response shows at least one example whose status is the response's own.
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const code of Object.keys(operation.responses).map(Number).filter((code) => code >= 400)) {
          if (path === '/oauth/revoke') continue // RFC 6749's error shape, described apart
          const examples = examplesOf(doc, path, method, code)
          t.ok(examples.length > 0 && examples.every((example) => (example as { statusCode: number }).statusCode === code), `${method} ${path} ${code}: examples`)
        }
      }
    }
  }

  const app = await buildExample(t, { name: 'memory' })
  const doc = app.swagger() as unknown as Documented
  const client = new Client(app)
  const { username, pair } = await client.signup()
  const same = (reply: { statusCode: number, json: () => unknown }, path: string, method: string, what: string): void => {
    t.ok(examplesOf(doc, path, method, reply.statusCode).some((example) => isDeepStrictEqual(example, reply.json())), `${what}: ${JSON.stringify(reply.json())} is documented as it is`)
  }
  same(await client.login(username, 'not the password'), '/auth/login', 'post', 'a wrong login')
  same(await client.register(username), '/auth/register', 'post', 'a taken name')
  same(await client.post('/auth/password', { currentPassword: 'not it', newPassword: 'a brand new passphrase' }, pair.accessToken), '/auth/password', 'post', 'a wrong current password')
  same(await client.app.inject({ url: '/me', headers: { authorization: `Bearer ${pair.accessToken} extra` } }), '/me', 'get', 'a malformed Authorization header')
  same(await client.post('/auth/register', { username: newName(), password: 'short' }), '/auth/register', 'post', 'a short password')
  same(await client.delete('/auth/sessions/00000000-0000-4000-8000-000000000000', pair.accessToken), '/auth/sessions/{id}', 'delete', 'an unknown session')
  same(await client.refresh('garbage'), '/auth/refresh', 'post', 'a garbage refresh token')
  await client.post('/auth/logout', undefined, pair.accessToken)
  same(await client.me(pair.accessToken), '/me', 'get', 'a revoked token')
})
