import { randomUUID } from 'node:crypto'
import fastifyJwt, { type FastifyJWTOptions, type TokenOrHeader } from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t from 'tap'
import jwtRevoke, { type JwtRevokeOptions } from '../index.js'
import { bearer, storeVariants } from './helpers/app.js'

// A JWKS in miniature: the key depends on the token's kid and on the request (its tenant header), the way
// get-jwks-style secret functions pick a key by kid and issuer.
const KEYS: Record<string, string> = {
  'k-1': 'first-key-of-the-secret-function-for-hs256',
  'k-2': 'second-key-of-the-secret-function-for-hs256'
}

type SecretCallback = (request: FastifyRequest, token: TokenOrHeader, done: (error: Error | null, key?: string) => void) => void

// Callback style, as @fastify/jwt's types describe it; with `decode: { complete: true }` it gets header and payload.
function secretFunction (seen: FastifyRequest[]): SecretCallback {
  return (request, token, done) => {
    seen.push(request)
    const kid = 'header' in token ? token.header.kid : undefined
    const key = KEYS[kid ?? '']
    // With a status: @fastify/jwt passes the secret function's error on as it is (without one, a 500).
    if (request.headers['x-tenant'] !== 'acme') done(Object.assign(new Error('unknown tenant'), { statusCode: 401 }))
    else if (key === undefined) done(Object.assign(new Error('unknown kid'), { statusCode: 401 }))
    else done(null, key)
  }
}

/** Signs with one of the keys, the way the identity provider behind the JWKS would. */
async function signer (kid: string): Promise<(claims: Record<string, unknown>) => string> {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: KEYS[kid] as string })
  return (claims) => app.jwt.sign({ sub: 'user-1', jti: randomUUID(), ...claims }, { kid, expiresIn: 3600 })
}

async function buildJwksApp (plugin: JwtRevokeOptions, jwt: Partial<FastifyJWTOptions> = {}): Promise<{ app: FastifyInstance, seen: FastifyRequest[] }> {
  const seen: FastifyRequest[] = []
  const app = Fastify()
  await app.register(fastifyJwt, { secret: secretFunction(seen), decode: { complete: true }, ...jwt })
  await app.register(jwtRevoke, plugin)
  app.get('/public', async () => ({ ok: true }))
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user)
  app.get('/verify-myself', async (request) => await request.jwtVerify())
  app.post('/logout', { onRequest: [app.authenticate] }, async (request, reply) => {
    await request.revokeToken()
    return reply.code(204).send()
  })
  await app.ready()
  return { app, seen }
}

/** The claims inside a token, as the app's secret function would verify them. */
const claimsOf = (token: string): Record<string, unknown> => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
const tenant = (token: string): Record<string, string> => ({ ...bearer(token), 'x-tenant': 'acme' })
const variants = await storeVariants(t)
const signK1 = await signer('k-1')
const signK2 = await signer('k-2')

for (const variant of variants) {
  t.test(`${variant.name} store: a @fastify/jwt secret function (JWKS) verifies with the request, and revocation holds`, async (t) => {
    const { app, seen } = await buildJwksApp(variant.options())
    t.teardown(() => app.close())
    const first = signK1({})
    const second = signK2({})
    const me = await app.inject({ url: '/me', headers: tenant(first) })
    t.equal(me.statusCode, 200, 'a token of the first key passes')
    t.equal(me.json().jti, claimsOf(first).jti)
    t.equal((await app.inject({ url: '/me', headers: tenant(second) })).statusCode, 200, 'a token of the second key passes')
    t.ok(seen.length > 0 && seen.every((request) => request.headers['x-tenant'] === 'acme'), 'the secret function got the request')
    const before = app.jwtRevoke.stats().checks
    await app.inject({ url: '/me', headers: tenant(first) })
    t.equal(app.jwtRevoke.stats().checks - before, 1, 'one store check per request')

    t.equal((await app.inject({ method: 'POST', url: '/logout', headers: tenant(first) })).statusCode, 204)
    for (const url of ['/me', '/verify-myself']) {
      const refused = await app.inject({ url, headers: tenant(first) })
      t.equal(refused.statusCode, 401, `${url}: the revoked token is refused`)
      t.equal(refused.json().code, 'FST_JWT_REVOKED')
    }
    t.equal((await app.inject({ url: '/public', headers: tenant(first) })).statusCode, 200, 'a route that verifies no token does not look at it')
    t.equal((await app.inject({ url: '/me', headers: tenant(second) })).statusCode, 200, 'the other token still works')

    await app.revokeSubject('user-1')
    t.equal((await app.inject({ url: '/me', headers: tenant(second) })).statusCode, 401, 'revokeSubject applies')
  })
}

t.test('tokens the secret function refuses are refused by authenticate, with no store call', async (t) => {
  const { app } = await buildJwksApp({})
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/public', headers: { 'x-tenant': 'acme' } })).statusCode, 200, 'no token: the public route answers')
  t.equal((await app.inject({ url: '/me', headers: { 'x-tenant': 'acme' } })).statusCode, 401, 'and authenticate refuses')
  const token = signK1({})
  t.equal((await app.inject({ url: '/public', headers: bearer(token) })).statusCode, 200, 'unknown tenant: the public route answers')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'and authenticate refuses')
  const forged = `${token.slice(0, -4)}AAAA`
  t.equal((await app.inject({ url: '/public', headers: tenant(forged) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: tenant(forged) })).statusCode, 401)
  const noKid = (await signer('k-1'))({}).replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'))
  t.equal((await app.inject({ url: '/me', headers: tenant(noKid) })).statusCode, 401, 'a kid the function does not know: 401')
  t.equal(app.jwtRevoke.stats().checks, 0, 'no store call for a token that did not verify')
})

t.test('app.revoke() of a token string cannot verify without the request: a clear error, nothing stored', async (t) => {
  const { app } = await buildJwksApp({})
  t.teardown(() => app.close())
  const token = signK1({})
  await t.rejects(app.revoke(token), { code: 'FST_JWT_REVOKE_INVALID_TOKEN', message: /secret function.*request\.user.*revokeToken/ })
  t.equal(app.jwtRevoke.stats().revocations, 0)
  t.equal((await app.inject({ url: '/me', headers: tenant(token) })).statusCode, 200, 'still valid')
  await app.revoke(claimsOf(token))
  t.equal((await app.inject({ url: '/me', headers: tenant(token) })).statusCode, 401, 'revoking the verified payload works')
  t.equal(await app.isRevoked(token), true, 'isRevoked decodes, so it takes the string')
})

t.test("with the app's own trusted option too, a request costs one store check and trusted applies", async (t) => {
  const { app } = await buildJwksApp({}, { trusted: (_request, payload) => (payload as { sub?: unknown }).sub !== 'distrusted' })
  t.teardown(() => app.close())
  const token = signK2({})
  const before = app.jwtRevoke.stats().checks
  t.equal((await app.inject({ url: '/verify-myself', headers: tenant(token) })).statusCode, 200)
  t.equal(app.jwtRevoke.stats().checks - before, 1, 'one check')
  await app.revoke(claimsOf(token))
  const refused = await app.inject({ url: '/verify-myself', headers: tenant(token) })
  t.equal(refused.json().code, 'FST_JWT_REVOKED')
  t.equal(app.jwtRevoke.stats().checks - before, 2, 'one check for the refused request too')
  const distrusted = await app.inject({ url: '/verify-myself', headers: tenant(signK2({ sub: 'distrusted' })) })
  t.equal(distrusted.json().code, 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED', "the app's trusted refuses before the check")
  t.equal(app.jwtRevoke.stats().checks - before, 2, 'no store call for it')
})
