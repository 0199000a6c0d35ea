import { randomUUID } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest, type InjectOptions } from 'fastify'
import t from 'tap'
import jwtRevoke, { type JwtRevokeOptions } from '../index.js'
import { bearer, SECRET, storeVariants } from './helpers/app.js'

// The app's own @fastify/jwt policy holds on every verification path, app.authenticate included: its `trusted`
// refuses what it refuses, `formatUser` makes request.user, and the revocation check still reads the signed claims
// formatUser leaves out. Each path x store, for a live token, one the app does not trust, one revoked by jti and one
// revoked by a subject cutoff.

const REFRESH_SECRET = 'the-refresh-secret-of-the-trusted-suite-long-enough'

declare module 'fastify' {
  interface FastifyRequest {
    policyJwtVerify: FastifyRequest['jwtVerify']
  }
}

type PerCall = Parameters<FastifyRequest['jwtVerify']>[0]
interface Payload { sub?: string, jti?: string }
// Keeps no claim the check needs: it must read them from the token.
const formatUser = (payload: unknown): object => ({ name: `user ${String((payload as Payload).sub)}` })
const distrusts = (payload: unknown): boolean => (payload as Payload).sub?.startsWith('distrusted') === true

interface Path {
  name: string
  namespace?: boolean
  request (token: string): InjectOptions
  live?: number
}

const PATHS: Path[] = [
  { name: 'app.authenticate', request: (token) => ({ url: '/authenticate', headers: bearer(token) }) },
  { name: 'request.jwtVerify()', request: (token) => ({ url: '/verify', headers: bearer(token) }) },
  { name: 'per-call verify options', request: (token) => ({ url: '/max-age', headers: bearer(token) }) },
  { name: 'per-call decode and verify', request: (token) => ({ url: '/nested', headers: bearer(token) }) },
  { name: 'per-call onlyCookie', request: (token) => ({ url: '/cookie', cookies: { session: token }, headers: bearer('x.y.z') }) },
  { name: 'per-call extractToken', request: (token) => ({ url: '/x-token', headers: { 'x-token': token } }) },
  { name: 'a namespace (async trusted)', namespace: true, request: (token) => ({ url: '/namespace', headers: bearer(token) }) },
  { name: 'an encapsulated route', request: (token) => ({ url: '/child/verify', headers: bearer(token) }) },
  { name: 'the not-found handler', live: 404, request: (token) => ({ url: '/nowhere', headers: bearer(token) }) }
]

async function policyApp (options: JwtRevokeOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifyJwt, { secret: SECRET, cookie: { cookieName: 'session', signed: false }, trusted: (_request, payload) => !distrusts(payload), formatUser })
  await app.register(fastifyJwt, {
    secret: REFRESH_SECRET,
    namespace: 'policy',
    trusted: async (_request, payload) => await new Promise((resolve) => { setImmediate(() => { resolve(!distrusts(payload)) }) }),
    formatUser
  })
  await app.register(jwtRevoke, options)
  app.get('/authenticate', { onRequest: app.authenticate }, async (request) => request.user)
  app.get('/verify', async (request) => await request.jwtVerify())
  app.get('/max-age', async (request) => await request.jwtVerify({ maxAge: '1h' }))
  app.get('/nested', async (request) => await request.jwtVerify({ decode: {}, verify: { maxAge: '1h' } }))
  app.get('/cookie', async (request) => await request.jwtVerify({ onlyCookie: true }))
  app.get('/x-token', async (request) => await request.jwtVerify({ extractToken: (r: FastifyRequest) => r.headers['x-token'] } as unknown as PerCall))
  app.get('/namespace', async (request) => await request.policyJwtVerify())
  app.register(async (child) => { child.get('/verify', async (request) => await request.jwtVerify()) }, { prefix: '/child' })
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send(await request.jwtVerify()))
  await app.ready()
  return app
}

const variants = await storeVariants(t)
for (const variant of variants) {
  t.test(`${variant.name}: trusted and formatUser apply on every path, and the check reads the signed claims`, async (t) => {
    const app = await policyApp(variant.options())
    t.teardown(() => app.close())
    const jwt = app.jwt as unknown as { sign: typeof app.jwt.sign, policy: { sign: typeof app.jwt.sign } }
    for (const path of PATHS) {
      const sign = (sub: string): string => (path.namespace === true ? jwt.policy : jwt).sign({ sub, jti: randomUUID() }, { expiresIn: 3600 })
      const answer = async (token: string): Promise<{ status: number, body: Record<string, unknown> }> => {
        const response = await app.inject(path.request(token))
        return { status: response.statusCode, body: response.json() }
      }
      const sub = `sub-${randomUUID()}`
      const live = await answer(sign(sub))
      t.same(live, { status: path.live ?? 200, body: { name: `user ${sub}` } }, `${path.name}: live, request.user is formatUser's`)
      const distrusted = await answer(sign(`distrusted-${randomUUID()}`))
      t.same([distrusted.status, distrusted.body.code], [401, 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED'], `${path.name}: the app's trusted refuses`)
      const byJti = sign(`sub-${randomUUID()}`)
      const bySubject = `sub-${randomUUID()}`
      const cutOff = sign(bySubject)
      await app.revoke({ ...app.jwt.decode<object>(byJti) })
      await app.revokeSubject(bySubject)
      for (const [how, token] of [['by jti', byJti], ['by subject cutoff', cutOff]]) {
        const refused = await answer(token as string)
        t.same([refused.status, refused.body.code], [401, 'FST_JWT_REVOKED'], `${path.name}: revoked ${how as string}`)
      }
    }
  })
}

t.test('a forged token costs authenticate one signature check, and app.jwt.verify is not called', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke)
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  t.teardown(() => app.close())
  // @fastify/jwt's request.jwtVerify verifies with its own verifier; app.jwt.verify is the second one the plugin used.
  let verifies = 0
  const verify = app.jwt.verify.bind(app.jwt)
  app.jwt.verify = ((...args: Parameters<typeof verify>) => {
    verifies++
    return verify(...args)
  }) as typeof app.jwt.verify
  const token = app.jwt.sign({ sub: 'forger', jti: randomUUID() }, { expiresIn: 60 })
  const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('not the signature').toString('base64url')}`
  const refused = await app.inject({ url: '/me', headers: bearer(forged) })
  t.equal(refused.json().code, 'FST_JWT_AUTHORIZATION_TOKEN_INVALID')
  t.equal(verifies, 0, 'no verification besides request.jwtVerify()')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal(verifies, 0, 'nor for a live token')
})
