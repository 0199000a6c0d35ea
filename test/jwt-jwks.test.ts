// fastify-jwt-jwks (which registers @fastify/jwt itself, with a JWKS secret function, and decorates `authenticate`)
// combined with the plugin and the back-channel logout receiver. With a namespace, its decorators are
// `<namespace>Authenticate`, so they never meet the plugin's `authenticate`; without one, the plugin's
// `decorators: { authenticate: false }` option (NOTES-core.md) leaves the app its own.
import Fastify, { type FastifyInstance } from 'fastify'
import { fastifyJwtJwks } from 'fastify-jwt-jwks'
import t from 'tap'
import jwtRevoke, { backchannelLogout } from '../index.js'
import { bearer } from './helpers/app.js'
import { startFakeProvider } from './helpers/fake-provider.js'

// Keys are generated and servers started at load: slow on a busy 2-core machine.
t.setTimeout(120_000)
const AUDIENCE = 'jwks-api'
const provider = await startFakeProvider(AUDIENCE)
t.teardown(() => provider.close())

function accessToken (claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000)
  return provider.sign({ iss: provider.issuer, aud: AUDIENCE, sub: 'user-1', jti: crypto.randomUUID(), iat: now, ...claims }, { typ: 'at+jwt', expiresIn: 600 })
}

t.test('fastify-jwt-jwks under a namespace: its tokens are checked, and a back-channel logout refuses them', async (t) => {
  const app: FastifyInstance = Fastify()
  await app.register(fastifyJwtJwks, { jwksUrl: provider.jwksUri, issuer: provider.issuer, audience: AUDIENCE, namespace: 'idp' })
  await app.register(jwtRevoke, { store: 'memory' })
  await app.register(backchannelLogout, { issuer: provider.issuer, audience: AUDIENCE, jwksUri: provider.jwksUri })
  const idp = app as unknown as { idpAuthenticate: (request: unknown, reply: unknown) => Promise<void> }
  app.get('/me', { onRequest: [idp.idpAuthenticate] }, async (request) => ({ ok: true, user: request.user }))
  await app.ready()
  t.teardown(() => app.close())
  const mine = accessToken({ sid: 'jwks-session' })
  const other = accessToken({ sid: 'other-session' })
  t.equal((await app.inject({ url: '/me', headers: bearer(mine) })).statusCode, 200, 'RS256 verified by fastify-jwt-jwks')
  const logout = await app.inject({
    method: 'POST',
    url: '/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: provider.logoutToken({ aud: AUDIENCE, sid: 'jwks-session' }) }).toString()
  })
  t.equal(logout.statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(mine) })).statusCode, 401, 'its authenticate is checked by the plugin')
  t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 200)
})
