import { randomUUID } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyFormbody from '@fastify/formbody'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest, type InjectOptions } from 'fastify'
import t from 'tap'
import jwtRevoke, { MemoryStore, type JwtRevokeOptions, type RevocationStore } from '../index.js'
import { SECRET, storeVariants } from './helpers/app.js'

// The promise on every path: once revoke()/revokeSubject() resolved, every verification through @fastify/jwt refuses
// the token with 401 FST_JWT_REVOKED. Each verification path x {memory, Redis, mirror} x {by jti, by subject cutoff},
// and a live token of the same kind passes every one of them.

const ROUTE_KEY = 'a-per-route-key-that-is-long-enough-for-hs256'

interface Path {
  name: string
  /** The request that presents `token` to this path; `other` is a live access token sent along where that matters. */
  request (token: string, other: string): InjectOptions
  /** The path's tokens are signed with the per-route key. */
  routeKey?: boolean
}

const bearerOf = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

const PATHS: Path[] = [
  { name: 'app.authenticate', request: (token) => ({ url: '/authenticate', headers: bearerOf(token) }) },
  { name: 'request.jwtVerify()', request: (token) => ({ url: '/verify', headers: bearerOf(token) }) },
  { name: 'request.jwtVerify(callback)', request: (token) => ({ url: '/verify-callback', headers: bearerOf(token) }) },
  { name: 'onlyCookie with a junk Bearer header', request: (token) => ({ url: '/refresh', cookies: { refresh: token }, headers: bearerOf('x.y.z') }) },
  { name: 'onlyCookie with a live access token in the header', request: (token, other) => ({ url: '/refresh', cookies: { refresh: token }, headers: bearerOf(other) }) },
  { name: 'a per-route key', routeKey: true, request: (token) => ({ url: '/route-key', headers: bearerOf(token) }) },
  { name: 'extractToken from another header', request: (token, other) => ({ url: '/x-token', headers: { 'x-token': token, ...bearerOf(other) } }) },
  { name: 'extractToken from the query string (WebSocket style)', request: (token, other) => ({ url: `/query?access_token=${token}`, headers: bearerOf(other) }) },
  {
    name: 'extractToken from a form body (RFC 6750), verified in preHandler',
    request: (token, other) => ({ method: 'POST', url: '/form', headers: { 'content-type': 'application/x-www-form-urlencoded', ...bearerOf(other) }, payload: `access_token=${token}` })
  },
  { name: 'decode and verify complete: true', request: (token) => ({ url: '/complete', headers: bearerOf(token) }) },
  { name: 'per-call verify options (maxAge)', request: (token) => ({ url: '/max-age', headers: bearerOf(token) }) },
  { name: 'a route declared before the plugin loaded', request: (token) => ({ url: '/early', headers: bearerOf(token) }) },
  { name: 'a child context created before the plugin', request: (token) => ({ url: '/child-before', headers: bearerOf(token) }) },
  { name: 'a child context created after the plugin', request: (token) => ({ url: '/child-after/verify', headers: bearerOf(token) }) },
  { name: 'a not-found handler', request: (token) => ({ url: '/no-such-route', headers: bearerOf(token) }) }
]

const verify = async (request: FastifyRequest): Promise<unknown> => await request.jwtVerify()
// @fastify/jwt's types leave out the lookup options its request.jwtVerify() takes per call (extractToken, onlyCookie).
type PerCall = Parameters<FastifyRequest['jwtVerify']>[0]
const extractingWith = (extractToken: (request: FastifyRequest) => unknown) => async (request: FastifyRequest): Promise<unknown> =>
  await request.jwtVerify({ extractToken } as unknown as PerCall)

/** One app with every path, built the way users write them: plugins registered without await, routes right after. */
async function buildPathsApp (options: JwtRevokeOptions): Promise<FastifyInstance> {
  const app = Fastify()
  app.register(fastifyCookie)
  app.register(fastifyFormbody)
  app.register(fastifyJwt, { secret: SECRET, cookie: { cookieName: 'refresh', signed: false } })
  app.register(async (child) => { child.get('/child-before', verify) })
  app.register(jwtRevoke, options)
  app.get('/early', verify)
  app.get('/verify', verify)
  app.get('/verify-callback', (request, reply) => {
    request.jwtVerify((error, user) => { error === null ? reply.send(user) : reply.send(error) })
  })
  app.get('/refresh', async (request) => await request.jwtVerify({ onlyCookie: true }))
  app.get('/route-key', async (request) => await request.jwtVerify({ key: ROUTE_KEY }))
  app.get('/x-token', extractingWith((r) => r.headers['x-token']))
  app.get('/query', extractingWith((r) => (r.query as Record<string, string>).access_token))
  app.post('/form', { preHandler: extractingWith((r) => (r.body as Record<string, string>).access_token) }, async (request) => request.user)
  app.get('/complete', async (request) => await request.jwtVerify({ decode: { complete: true }, verify: { complete: true } }))
  app.get('/max-age', async (request) => await request.jwtVerify({ maxAge: '1h' }))
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({ user: await request.jwtVerify() }))
  await app.after()
  app.get('/authenticate', { onRequest: app.authenticate }, async (request) => request.user)
  app.register(async (child) => { child.get('/verify', verify) }, { prefix: '/child-after' })
  await app.ready()
  return app
}

const variants = await storeVariants(t)
const redis = variants.find((variant) => variant.name === 'redis')
const stores: Array<{ name: string, options: () => JwtRevokeOptions }> = [
  ...variants.map((variant) => ({ name: variant.name, options: () => variant.options() })),
  { name: 'mirror', options: () => ({ store: 'redis', mode: 'mirror', redis: redis?.redis?.url as string }) },
  { name: 'custom (async)', options: () => ({ store: asyncStore(new MemoryStore()) }) }
]

/** A custom store that answers every check a turn later, as a store talking to a server does. */
function asyncStore (inner: MemoryStore): RevocationStore {
  return {
    isRevoked: async (claims) => await new Promise<boolean>((resolve) => { setImmediate(() => { resolve(inner.isRevoked(claims)) }) }),
    revoke: async (claims, ttl) => { await inner.revoke(claims, ttl) },
    revokeSubject: async (sub, cutoff, ttl) => { await inner.revokeSubject(sub, cutoff, ttl) }
  }
}

for (const store of stores) {
  t.test(`${store.name}: every verification path refuses a revoked token and passes a live one`, async (t) => {
    const app = await buildPathsApp(store.options())
    t.teardown(() => app.close())
    const sign = (path: Path, sub: string): string => app.jwt.sign({ sub, jti: randomUUID() }, path.routeKey === true ? { key: ROUTE_KEY, expiresIn: 3600 } : { expiresIn: 3600 })
    const other = app.jwt.sign({ sub: 'bystander', jti: randomUUID() }, { expiresIn: 3600 })
    const statusOf = async (path: Path, token: string): Promise<{ status: number, code: unknown }> => {
      const response = await app.inject(path.request(token, other))
      const body = response.json<{ code?: unknown }>()
      return { status: response.statusCode, code: body.code }
    }
    for (const path of PATHS) {
      const live = path.name === 'a not-found handler' ? 404 : 200
      const byJti = sign(path, `sub-${randomUUID()}`)
      const bySubject = sign(path, `sub-${randomUUID()}`)
      const untouched = sign(path, `sub-${randomUUID()}`)
      t.same(await statusOf(path, byJti), { status: live, code: undefined }, `${path.name}: live`)
      await app.revoke(app.jwt.decode(byJti) as Record<string, unknown>)
      await app.revokeSubject((app.jwt.decode(bySubject) as { sub: string }).sub)
      t.same(await statusOf(path, byJti), { status: 401, code: 'FST_JWT_REVOKED' }, `${path.name}: revoked by jti`)
      t.same(await statusOf(path, bySubject), { status: 401, code: 'FST_JWT_REVOKED' }, `${path.name}: revoked by subject cutoff`)
      t.same(await statusOf(path, untouched), { status: live, code: undefined }, `${path.name}: another token still passes`)
    }
  })
}
