import { randomUUID } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyRequest } from 'fastify'
import t from 'tap'
import jwtRevoke from '../index.js'
import { bearer, SECRET } from './helpers/app.js'

const sign = (app: { jwt: { sign (payload: object, options: object): string } }, claims: object = {}): string =>
  app.jwt.sign({ sub: 'setup-user', jti: randomUUID(), ...claims }, { expiresIn: 3600 })

t.test('@fastify/cookie parsing cookies in preHandler: a revoked cookie token is refused where it is verified', async (t) => {
  const app = Fastify()
  await app.register(fastifyCookie, { hook: 'preHandler' })
  await app.register(fastifyJwt, { secret: SECRET, cookie: { cookieName: 'session', signed: false } })
  await app.register(jwtRevoke)
  app.get('/me', { preHandler: async (request) => { await request.jwtVerify({ onlyCookie: true }) } }, async (request) => request.user)
  t.teardown(() => app.close())
  const token = sign(app)
  t.equal((await app.inject({ url: '/me', cookies: { session: token } })).statusCode, 200)
  await app.revoke(token)
  t.equal((await app.inject({ url: '/me', cookies: { session: token }, headers: bearer(sign(app)) })).json().code, 'FST_JWT_REVOKED')
})

t.test('claims come from the signed payload, whatever formatUser and decoratorName make of it', async (t) => {
  const app = Fastify()
  // formatUser keeps only a display name: no jti, sub or iat left on request.principal.
  await app.register(fastifyJwt, { secret: SECRET, decoratorName: 'principal', formatUser: (payload) => ({ name: `user ${String((payload as { sub?: unknown }).sub)}` }) })
  await app.register(jwtRevoke, { requireJti: false })
  const principalOf = (request: FastifyRequest): unknown => (request as unknown as { principal: unknown }).principal
  app.get('/verify', async (request) => ({ returned: await request.jwtVerify(), principal: principalOf(request) }))
  app.get('/authenticate', { onRequest: app.authenticate }, async (request) => principalOf(request))
  // A route that catches the refusal and carries on must not find the refused token's user on the request.
  app.get('/caught', async (request) => {
    await request.jwtVerify().catch(() => {})
    return { principal: principalOf(request) ?? 'none' }
  })
  app.post('/logout', async (request, reply) => {
    await request.jwtVerify()
    await request.revokeToken()
    return reply.code(204).send()
  })
  t.teardown(() => app.close())

  const token = sign(app)
  t.same((await app.inject({ url: '/verify', headers: bearer(token) })).json(), { returned: { name: 'user setup-user' }, principal: { name: 'user setup-user' } }, 'request.jwtVerify() is formatUser\'s')
  t.equal((await app.inject({ url: '/authenticate', headers: bearer(token) })).json().sub, 'setup-user', 'authenticate sets the verified payload on decoratorName')
  t.equal((await app.inject({ method: 'POST', url: '/logout', headers: bearer(token) })).statusCode, 204, 'revokeToken finds the claims formatUser dropped')
  for (const url of ['/verify', '/authenticate']) t.equal((await app.inject({ url, headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', url)
  t.same((await app.inject({ url: '/caught', headers: bearer(token) })).json(), { principal: 'none' }, 'a refused token leaves no user behind')

  const other = sign(app, { sub: 'setup-other' })
  await app.revokeSubject('setup-other')
  for (const url of ['/verify', '/authenticate']) t.equal((await app.inject({ url, headers: bearer(other) })).json().code, 'FST_JWT_REVOKED', `revokeSubject, ${url}`)
})

t.test('complete tokens (decode and verify complete: true): the subject cutoff applies, requireJti false included', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET, decode: { complete: true }, verify: { complete: true } })
  await app.register(jwtRevoke, { requireJti: false })
  app.get('/verify', async (request) => await request.jwtVerify())
  app.get('/authenticate', { onRequest: app.authenticate }, async (request) => request.user)
  t.teardown(() => app.close())
  const noJti = app.jwt.sign({ sub: 'complete-user' }, { expiresIn: 3600 })
  const withJti = sign(app, { sub: 'complete-other' })
  t.type((await app.inject({ url: '/authenticate', headers: bearer(noJti) })).json().header, 'object', 'request.user is the complete token')
  await app.revokeSubject('complete-user')
  await app.revoke(withJti)
  for (const url of ['/verify', '/authenticate']) {
    t.equal((await app.inject({ url, headers: bearer(noJti) })).json().code, 'FST_JWT_REVOKED', `${url}: cutoff`)
    t.equal((await app.inject({ url, headers: bearer(withJti) })).json().code, 'FST_JWT_REVOKED', `${url}: jti of a token revoked as a string`)
  }
  const complete = app.jwt.verify(sign(app, { sub: 'complete-third' }))
  await app.revoke(complete as unknown as Record<string, unknown>)
  t.equal(await app.isRevoked(complete as unknown as Record<string, unknown>), true, 'revoke and isRevoked take a complete token')
})

t.test('a sibling context without the plugin keeps @fastify/jwt as it is', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  let token = ''
  app.register(async (guarded) => {
    await guarded.register(jwtRevoke)
    guarded.get('/guarded', async (request) => await request.jwtVerify())
    guarded.post('/revoke', async () => { await guarded.revoke(token) })
  })
  app.register(async (plain) => { plain.get('/plain', async (request) => await request.jwtVerify()) })
  await app.ready()
  t.teardown(() => app.close())
  token = sign(app)
  await app.inject({ method: 'POST', url: '/revoke' })
  t.equal((await app.inject({ url: '/guarded', headers: bearer(token) })).json().code, 'FST_JWT_REVOKED')
  t.equal((await app.inject({ url: '/plain', headers: bearer(token) })).statusCode, 200, 'no revocation store in that context')
})

t.test('an extractToken that answers differently the second time: the check cannot read the claims, so it refuses', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke)
  const token = sign(app)
  // The first call is @fastify/jwt's lookup, the second the plugin's: what it finds then is not what was verified.
  const flaky = (second: () => string) => {
    let calls = 0
    return (): string => ++calls === 1 ? token : second()
  }
  const withExtract = (extractToken: () => string) => async (request: FastifyRequest): Promise<unknown> =>
    await request.jwtVerify({ extractToken } as unknown as Parameters<FastifyRequest['jwtVerify']>[0])
  app.get('/throws', (request) => withExtract(flaky(() => { throw new Error('gone') }))(request))
  app.get('/garbage', (request) => withExtract(flaky(() => 'not-a-jwt'))(request))
  app.get('/bad-json', (request) => withExtract(flaky(() => 'e30.bm90IGpzb24.x'))(request))
  t.teardown(() => app.close())
  for (const url of ['/throws', '/garbage', '/bad-json']) {
    const refused = await app.inject({ url })
    t.equal(refused.statusCode, 401, url)
    t.equal(refused.json().code, 'FST_JWT_REVOKE_INVALID_CLAIM', `${url}: no claims, no pass`)
  }
})
