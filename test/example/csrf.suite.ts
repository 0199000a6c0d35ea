import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { bearer, buildExample, Client, PASSWORD, type Pair } from '../helpers/example-app.js'

// Login CSRF in cookie mode: another site's form must not log the visitor's browser in, nor refresh or end its session.

const HOST = 'auth.example.test'
const EVIL = 'https://evil.example'

function post (client: Client, url: string, headers: Record<string, string>, payload?: object): Promise<LightMyRequestResponse> {
  return client.app.inject({ method: 'POST', url, headers: { host: HOST, ...headers }, ...payload === undefined ? {} : { payload } })
}

function refusedAsCrossSite (t: Test, reply: LightMyRequestResponse, what: string): void {
  t.equal(reply.statusCode, 403, what)
  t.equal(reply.json<{ code: string }>().code, 'AUTH_CROSS_SITE_REQUEST')
  t.equal(reply.headers['set-cookie'], undefined, `${what}: no cookie set`)
}

t.test('refresh cookie: login, refresh and logout refuse another origin (Origin checked), accept their own', async (t) => {
  const client = new Client(await buildExample(t, { name: 'memory' }, { refreshCookie: true, allowedOrigins: ['https://app.example.test'] }))
  const { username } = await client.signup()
  const credentials = { username, password: PASSWORD }

  refusedAsCrossSite(t, await post(client, '/auth/login', { origin: EVIL }, credentials), 'a login from another site')
  refusedAsCrossSite(t, await post(client, '/auth/login', { origin: 'null' }, credentials), 'a login from a sandboxed page (Origin: null)')
  refusedAsCrossSite(t, await post(client, '/auth/login', { origin: `https://${HOST}.evil.example` }, credentials), 'a lookalike origin')

  const own = await post(client, '/auth/login', { origin: `http://${HOST}` }, credentials)
  t.equal(own.statusCode, 200, 'a login from the server\'s own origin')
  t.match(own.headers['set-cookie'], /^refresh_token=/)
  t.equal((await post(client, '/auth/login', { origin: 'https://app.example.test' }, credentials)).statusCode, 200, 'an allowed origin')
  t.equal((await post(client, '/auth/login', {}, credentials)).statusCode, 200, 'no Origin: no browser form (curl, a server)')

  const cookie = String(own.headers['set-cookie']).split(';')[0] ?? ''
  const { accessToken } = own.json<Pair>()
  refusedAsCrossSite(t, await post(client, '/auth/refresh', { origin: EVIL, cookie }), 'a refresh from another site')
  const logout = await post(client, '/auth/logout', { origin: EVIL, cookie, ...bearer(accessToken) })
  refusedAsCrossSite(t, logout, 'a logout from another site')
  t.equal((await client.me(accessToken)).statusCode, 200, 'the session is untouched')
  const refreshed = await post(client, '/auth/refresh', { origin: `http://${HOST}`, cookie })
  t.equal(refreshed.statusCode, 200, 'and refreshes from its own origin')
})

t.test('JSON mode: no Origin check (the pair is in the body, which another site cannot read)', async (t) => {
  const client = new Client(await buildExample(t, { name: 'memory' }))
  const { username } = await client.signup()
  const reply = await post(client, '/auth/login', { origin: EVIL }, { username, password: PASSWORD })
  t.equal(reply.statusCode, 200)
  t.equal(reply.headers['set-cookie'], undefined)
})
