import { randomUUID } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import t from 'tap'
import jwtRevoke, { type JwtRevokeOptions } from '../index.js'
import { bearer, storeVariants } from './helpers/app.js'

// @fastify/jwt namespaces, its documented way to keep two token kinds apart, each with its own secret.
const ACCESS_SECRET = 'the-access-token-secret-long-enough-for-hs256'
const REFRESH_SECRET = 'the-refresh-token-secret-long-enough-for-hs256'

declare module 'fastify' {
  interface FastifyRequest {
    accessJwtVerify: FastifyRequest['jwtVerify']
    refreshJwtVerify: FastifyRequest['jwtVerify']
    checkAccess: FastifyRequest['jwtVerify']
  }
}

interface Namespaced { jwt: Record<string, { sign (payload: object, options?: object): string, decode (token: string): Record<string, unknown> }> }

async function namespacedApp (options: JwtRevokeOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifyJwt, { secret: ACCESS_SECRET, namespace: 'access' })
  await app.register(fastifyJwt, { secret: REFRESH_SECRET, namespace: 'refresh', cookie: { cookieName: 'refresh', signed: false } })
  await app.register(jwtRevoke, options)
  app.get('/access', async (request) => await request.accessJwtVerify())
  app.get('/refresh', async (request) => await request.refreshJwtVerify({ onlyCookie: true }))
  app.post('/logout', async (request, reply) => {
    await request.accessJwtVerify()
    await request.revokeToken()
    return reply.code(204).send()
  })
  app.get('/authenticate', { onRequest: app.authenticate }, async () => 'never')
  app.post('/revoke-unverified', async (request) => { await request.revokeToken() })
  await app.ready()
  return app
}

const variants = await storeVariants(t)
for (const variant of variants.filter((v) => v.name !== 'redis-pipelined')) {
  t.test(`${variant.name}: every namespace's request verify is checked; revoke works for each`, async (t) => {
    const app = await namespacedApp(variant.options())
    t.teardown(() => app.close())
    const { jwt } = app as unknown as Namespaced
    const access = (sub = 'ns-user'): string => jwt.access?.sign({ sub, jti: randomUUID() }, { expiresIn: 3600 }) as string
    const refresh = (sub = 'ns-user'): string => jwt.refresh?.sign({ sub, jti: randomUUID() }, { expiresIn: 3600 }) as string

    const a1 = access()
    const r1 = refresh()
    t.equal((await app.inject({ url: '/access', headers: bearer(a1) })).statusCode, 200)
    t.equal((await app.inject({ url: '/refresh', cookies: { refresh: r1 } })).statusCode, 200)
    t.equal((await app.inject({ url: '/access', headers: bearer(r1) })).statusCode, 401, 'a refresh token is no access token')

    await app.revoke(a1)
    await app.revoke(r1)
    t.equal((await app.inject({ url: '/access', headers: bearer(a1) })).json().code, 'FST_JWT_REVOKED', 'app.revoke(string) verified it with the access namespace')
    t.equal((await app.inject({ url: '/refresh', cookies: { refresh: r1 }, headers: bearer('x.y.z') })).json().code, 'FST_JWT_REVOKED', 'and with the refresh namespace')

    const a2 = access()
    t.equal((await app.inject({ method: 'POST', url: '/logout', headers: bearer(a2) })).statusCode, 204)
    t.equal((await app.inject({ url: '/access', headers: bearer(a2) })).json().code, 'FST_JWT_REVOKED', 'request.revokeToken() revoked the token the request verified')

    const r2 = refresh()
    await app.revoke(jwt.refresh?.decode(r2) as Record<string, unknown>)
    t.equal((await app.inject({ url: '/refresh', cookies: { refresh: r2 } })).json().code, 'FST_JWT_REVOKED', 'app.revoke(payload)')

    const [a3, r3] = [access('ns-other'), refresh('ns-other')]
    await app.revokeSubject('ns-other')
    t.equal((await app.inject({ url: '/access', headers: bearer(a3) })).json().code, 'FST_JWT_REVOKED', 'revokeSubject: access')
    t.equal((await app.inject({ url: '/refresh', cookies: { refresh: r3 } })).json().code, 'FST_JWT_REVOKED', 'revokeSubject: refresh')
    t.equal((await app.inject({ url: '/access', headers: bearer(access()) })).statusCode, 200, 'other subjects pass')

    const forged = Fastify()
    await forged.register(fastifyJwt, { secret: 'someone-elses-secret-long-enough-for-hs256' })
    await t.rejects(app.revoke(forged.jwt.sign({ sub: 'x', jti: 'forged' })), { code: 'FST_JWT_REVOKE_INVALID_TOKEN' }, 'no namespace signed it: nothing stored')
    await app.revoke(jwt.access?.sign({ sub: 'x', jti: 'old' }, { expiresIn: -100 }) as string)
    t.equal(await app.isRevoked(jwt.access?.sign({ sub: 'x', jti: 'old' }) as string), false, 'an expired token is a no-op')

    const noDefault = await app.inject({ url: '/authenticate', headers: bearer(access()) })
    t.equal(noDefault.statusCode, 500)
    t.equal(noDefault.json().code, 'FST_JWT_REVOKE_NO_VERIFIER', 'app.authenticate needs the registration without namespace, and says so')
    t.equal((await app.inject({ method: 'POST', url: '/revoke-unverified', headers: bearer(access()) })).json().code, 'FST_JWT_REVOKE_NO_VERIFIER')
  })
}

t.test('a registration without namespace beside a namespace, and renamed request methods', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: ACCESS_SECRET })
  await app.register(fastifyJwt, { secret: REFRESH_SECRET, namespace: 'refresh', jwtVerify: 'checkRefresh' })
  await app.register(fastifyJwt, { secret: 'a-third-secret-long-enough-for-hs256-tokens', namespace: 'access', jwtVerify: 'checkAccess' })
  await app.register(jwtRevoke)
  app.get('/default', { onRequest: app.authenticate }, async () => 'ok')
  app.get('/refresh', async (request) => await (request as unknown as { checkRefresh: FastifyRequest['jwtVerify'] }).checkRefresh())
  app.get('/access', async (request) => await request.checkAccess())
  t.teardown(() => app.close())
  const { jwt } = app as unknown as Namespaced
  const tokens = {
    '/default': app.jwt.sign({ sub: 'u', jti: randomUUID() }, { expiresIn: 60 }),
    '/refresh': jwt.refresh?.sign({ sub: 'u', jti: randomUUID() }, { expiresIn: 60 }) as string,
    '/access': jwt.access?.sign({ sub: 'u', jti: randomUUID() }, { expiresIn: 60 }) as string
  }
  for (const [url, token] of Object.entries(tokens)) {
    t.equal((await app.inject({ url, headers: bearer(token) })).statusCode, 200, `${url}: live`)
    await app.revoke(token)
    t.equal((await app.inject({ url, headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', `${url}: revoked`)
  }
})

t.test('a request verify method the plugin cannot pair with a registration fails register, loudly', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: ACCESS_SECRET })
  app.decorateRequest('lookalike', function requestVerify () {})
  app.register(jwtRevoke)
  await t.rejects(async () => { await app.ready() }, { code: 'FST_JWT_REVOKE_UNSUPPORTED_SETUP', message: /1 registration.*jwtVerify.*lookalike/ })
})

t.test('a namespace registered after the plugin is guarded before the first request', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: ACCESS_SECRET, namespace: 'access' })
  await app.register(jwtRevoke)
  await app.register(fastifyJwt, { secret: REFRESH_SECRET, namespace: 'refresh' })
  app.get('/refresh', async (request) => await request.refreshJwtVerify())
  await app.ready()
  t.teardown(() => app.close())
  const token = (app as unknown as Namespaced).jwt.refresh?.sign({ sub: 'late', jti: randomUUID() }, { expiresIn: 60 }) as string
  t.equal((await app.inject({ url: '/refresh', headers: bearer(token) })).statusCode, 200)
  await app.revoke(token)
  t.equal((await app.inject({ url: '/refresh', headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', 'app.revoke(string) knows it too')
})
