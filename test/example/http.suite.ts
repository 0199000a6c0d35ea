import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildExample, newName, PASSWORD, variants, type Pair } from '../helpers/example-app.js'

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
      t.equal(codes.includes('400'), takesInput, `${name}: a 400 listed exactly when it takes a body or parameters`)
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
