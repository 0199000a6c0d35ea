// What a resolved revocation promises, on every store: the object passed names the token the check reads (it must say
// its subject), a revocation never gets shorter (a second, shorter write keeps the longer TTL and the later cutoff),
// it lasts while any verifier of the app accepts the token (clockTolerance, per-call ignoreExpiration, a token just
// past exp), a login right after logout-everywhere is accepted, and TTLs are whole seconds. Memory, Redis lookup,
// Redis mirror and a real Redis Cluster (the Lua scripts), each through the public API.
import { createHmac, randomUUID } from 'node:crypto'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { Redis, type Cluster } from 'ioredis'
import jwtRevoke, { MemoryStore, type JwtRevokeOptions } from '../index.js'
import { bearer, buildApp, SECRET, type TestApp } from './helpers/app.js'
import { statusWithin } from './helpers/mirror.js'
import { startClusterFor } from './helpers/redis-cluster.js'
import { listened, startRedisFor } from './helpers/redis-server.js'

t.setTimeout(180_000)

const now = (): number => Math.floor(Date.now() / 1000)
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** A token signed with the test secret, claims as given (fast-jwt's signer would round a fractional iat). */
function hs256 (payload: object): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url')
  const signed = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`
  return `${signed}.${createHmac('sha256', SECRET).update(signed).digest('base64url')}`
}

const server = await startRedisFor(t)
const cluster = await startClusterFor(t)
const clients: Array<Redis | Cluster> = []
t.teardown(async () => { await Promise.all(clients.map(async (c) => await c.quit().catch(() => c.disconnect()))) })
const redisClient = (): Redis => {
  const client = listened(new Redis(server.url, { maxRetriesPerRequest: 1 }))
  clients.push(client)
  return client
}
const clusterClient = (): Cluster => {
  const client = listened(cluster.client())
  clients.push(client)
  return client
}

interface Variant {
  name: string
  /** Options for one more instance on the same store (the memory variant shares one MemoryStore object). */
  options (extra?: JwtRevokeOptions): JwtRevokeOptions
  /** Whether a refusal written by another instance may take a moment to arrive (a mirror hears it by pub/sub). */
  eventual: boolean
}

function memoryVariant (): Variant {
  const store = new MemoryStore()
  return { name: 'memory', eventual: false, options: (extra = {}) => ({ store, ...extra }) }
}

const variants: Variant[] = [
  memoryVariant(),
  { name: 'redis lookup', eventual: false, options: (extra = {}) => ({ store: 'redis', redis: redisClient(), keyPrefix: 'rules-l:', ...extra }) },
  { name: 'redis mirror', eventual: true, options: (extra = {}) => ({ store: 'redis', redis: redisClient(), mode: 'mirror', keyPrefix: 'rules-m:', ...extra }) },
  { name: 'redis cluster', eventual: false, options: (extra = {}) => ({ store: 'redis', redis: clusterClient(), keyPrefix: 'rules-c:', ...extra }) }
]

async function instance (t: Test, options: JwtRevokeOptions, jwt: Partial<FastifyJWTOptions> = {}): Promise<TestApp> {
  const built = await buildApp(options, jwt)
  t.teardown(() => built.app.close())
  return built
}

/** Status of GET /me with this token; with `eventual`, waits (bounded) until it is `want`. */
async function statusOf (app: TestApp['app'], token: string, want: number, eventual: boolean): Promise<number> {
  if (!eventual) return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
  return await statusWithin(app, token, want, 10_000).then(() => want, async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode)
}

for (const variant of variants) {
  t.test(`${variant.name}: an object passed to revoke()/isRevoked() must say its subject`, async (t) => {
    const { app, sign } = await instance(t, variant.options())
    const token = sign({ sub: 'named-user' })
    const payload = app.jwt.verify<Record<string, unknown>>(token)
    const { jti, exp } = payload
    await t.rejects(app.revoke({ jti, exp }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500, message: /"sub"/ }, 'no sub key: refused, not resolved')
    await t.rejects(app.isRevoked({ jti, exp }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT' }, 'isRevoked too')
    t.equal(await statusOf(app, token, 200, false), 200, 'the token still passes, and nothing said it was revoked')
    t.equal(app.jwtRevoke.stats().revocations, 0, 'nothing was written')
    t.equal(await app.isRevoked({ jti, exp, sub: null }), false, 'the entry of a token without subject is not this one')

    await app.revoke({ jti, exp, sub: 'named-user' })
    t.equal(await statusOf(app, token, 401, variant.eventual), 401, 'with its sub: the token is refused')
    t.equal(await app.isRevoked({ jti, exp, sub: 'named-user' }), true, 'and isRevoked says so')
    t.equal(await app.isRevoked({ jti, sub: null }), false, 'a token without subject of that jti is another token')

    const anonymous = app.jwt.sign({ jti: randomUUID() }, { expiresIn: 3600 })
    const anonymousPayload = app.jwt.verify<Record<string, unknown>>(anonymous)
    t.notOk('sub' in anonymousPayload)
    await t.rejects(app.revoke(anonymousPayload), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT' }, 'a verified payload without sub must say so too')
    await app.revoke({ ...anonymousPayload, sub: undefined })
    t.equal(await statusOf(app, anonymous, 401, variant.eventual), 401, 'sub: undefined written out: the token without subject is refused')
    t.equal(await app.isRevoked({ ...anonymousPayload, sub: null }), true)
    t.equal(await app.isRevoked(anonymous), true, 'a token string names its own subject')
  })

  t.test(`${variant.name}: a second, shorter revocation never shortens the first`, async (t) => {
    const long = await instance(t, variant.options())
    // Another instance of the app with other settings: no clock skew, and cutoffs kept 2 s.
    const short = await instance(t, variant.options({ clockSkew: 0, maxTokenLifetime: 2 }))
    const token = long.sign({ sub: 'shorter-user' })
    const payload = long.app.jwt.verify<Record<string, unknown>>(token)
    await long.app.revoke(token)
    // The same token named with an exp 2 s away (a stale record, a forged copy fed to another writer).
    await short.app.revoke({ ...payload, exp: now() + 2 })

    const old = long.sign({ sub: 'cutoff-user', iat: now() - 5 })
    await long.app.revokeSubject('cutoff-user', { before: now() - 3 })
    // A later cutoff written with a 2 s lifetime: it must not end the first one's 30 days.
    await short.app.revokeSubject('cutoff-user', { before: now() - 1 })
    t.equal(await statusOf(long.app, old, 401, variant.eventual), 401)
    await sleep(3500)
    t.equal(await statusOf(long.app, token, 401, false), 401, 'the token is still refused after the shorter TTL ran out')
    t.equal(await statusOf(long.app, old, 401, false), 401, 'the subject cutoff too')
    t.equal(await long.app.isRevoked(token), true)
  })

  t.test(`${variant.name}: a revocation lasts while a verifier of the app accepts the token`, async (t) => {
    // @fastify/jwt's clockTolerance is in milliseconds (fast-jwt's unit): 30 s past exp, still accepted.
    const { app } = await instance(t, variant.options({ clockSkew: 0 }), { verify: { clockTolerance: 30_000 } })
    const token = app.jwt.sign({ sub: 'tolerated', jti: randomUUID() }, { expiresIn: 1 })
    await app.revoke(token)
    await sleep(2500)
    t.equal(await statusOf(app, token, 401, false), 401, 'past exp, within clockTolerance: still refused')

    const expired = app.jwt.sign({ sub: 'tolerated', jti: randomUUID(), exp: now() - 5 })
    t.equal(await statusOf(app, expired, 200, false), 200, 'a token 5 s past exp is accepted within the tolerance')
    await app.revoke(expired)
    t.equal(await statusOf(app, expired, 401, variant.eventual), 401, 'so revoke(string) of it writes, and it is refused')
  })
}

t.test('a route accepting expired tokens (ignoreExpiration): acceptExpiredFor keeps revocations that long, and bounds it', async (t) => {
  // The usual "renew with an expired access token" route.
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke, { clockSkew: 60, requireJti: false, acceptExpiredFor: 30 })
  app.get('/renew', async (request) => await request.jwtVerify({ ignoreExpiration: true }))
  app.get('/strict', async (request) => await request.jwtVerify())
  app.get('/tolerant', async (request) => await request.jwtVerify({ clockTolerance: 200_000 }))
  const renew = async (token: string): Promise<{ statusCode: number, code?: string }> => {
    const reply = await app.inject({ url: '/renew', headers: bearer(token) })
    return { statusCode: reply.statusCode, code: reply.statusCode === 200 ? undefined : reply.json().code }
  }
  const recent = app.jwt.sign({ sub: 'renewer', jti: randomUUID(), exp: now() - 20 })
  t.same(await renew(recent), { statusCode: 200, code: undefined }, 'ignoreExpiration: a token expired 20 s ago is accepted (acceptExpiredFor 30)')
  t.equal((await app.inject({ url: '/strict', headers: bearer(recent) })).json().code, 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED', 'elsewhere it has expired')
  await app.revoke(recent)
  t.same(await renew(recent), { statusCode: 401, code: 'FST_JWT_REVOKED' }, 'revoke(string) of an expired token writes its revocation')
  const later = app.jwt.sign({ sub: 'renewer', jti: randomUUID(), exp: now() - 80 })
  await app.revoke(later)
  t.equal(app.jwtRevoke.stats().revocations, 2, 'kept until exp + clockSkew + acceptExpiredFor (90 s): written')

  const old = app.jwt.sign({ sub: 'renewer', jti: randomUUID(), exp: now() - 100 })
  await app.revoke(old)
  t.equal(app.jwtRevoke.stats().revocations, 2, 'past exp + clockSkew + acceptExpiredFor: nothing left to write')
  t.same(await renew(old), { statusCode: 401, code: 'FST_JWT_REVOKE_EXPIRED' }, 'and the check refuses a token its deny-list no longer speaks for')
  t.match((await app.inject({ url: '/renew', headers: bearer(old) })).json().message, /expired 10\d s ago.*30 s/)
  t.same(await renew(app.jwt.sign({ sub: 'renewer', jti: randomUUID(), exp: now() - 40 })), { statusCode: 401, code: 'FST_JWT_REVOKE_EXPIRED' }, 'past acceptExpiredFor: refused')
  const tolerated = await app.inject({ url: '/tolerant', headers: bearer(old) })
  t.equal(tolerated.json().code, 'FST_JWT_REVOKE_EXPIRED', 'a per-call clockTolerance wider than the plugin knows: refused past it too')
  const unrevocable = app.jwt.sign({ scope: 'anonymous', exp: now() - 100 })
  t.same(await renew(unrevocable), { statusCode: 200, code: undefined }, 'unless it has neither jti nor sub: nothing could ever revoke it')
})

t.test('a token past its verifier\'s maxAge is refused for good: revoke() writes nothing and resolves', async (t) => {
  const { app } = await instance(t, {}, { verify: { maxAge: 5 } })
  const token = app.jwt.sign({ sub: 'aged', jti: randomUUID(), iat: now() - 10 }, { expiresIn: 3600 })
  await app.revoke(token)
  t.equal(app.jwtRevoke.stats().revocations, 0)
})

t.test('logging back in right after logout-everywhere works (10 of 10 rounds, one process)', async (t) => {
  const { app, sign } = await instance(t, {})
  let accepted = 0
  let refused = 0
  for (let round = 0; round < 10; round++) {
    const before = sign({ sub: 'everywhere' })
    await app.revokeSubject('everywhere')
    const after = sign({ sub: 'everywhere' })
    if ((await app.inject({ url: '/me', headers: bearer(after) })).statusCode === 200) accepted++
    if ((await app.inject({ url: '/me', headers: bearer(before) })).statusCode === 401) refused++
  }
  t.equal(accepted, 10, 'a token signed after revokeSubject resolved is accepted')
  t.equal(refused, 10, 'one signed before it was called is refused')
})

t.test('logging back in right after logout-everywhere works across two instances sharing Redis', async (t) => {
  const keyPrefix = `login-${randomUUID()}:`
  const a = await instance(t, { store: 'redis', redis: redisClient(), keyPrefix })
  const b = await instance(t, { store: 'redis', redis: redisClient(), keyPrefix })
  for (let round = 0; round < 3; round++) {
    const before = a.sign({ sub: 'everywhere-2' })
    await a.app.revokeSubject('everywhere-2')
    const after = b.sign({ sub: 'everywhere-2' })
    for (const [name, { app }] of [['a', a], ['b', b]] as const) {
      t.equal((await app.inject({ url: '/me', headers: bearer(after) })).statusCode, 200, `round ${round}, instance ${name}: signed on b after the call resolved on a: accepted`)
      t.equal((await app.inject({ url: '/me', headers: bearer(before) })).statusCode, 401, `round ${round}, instance ${name}: signed before: refused`)
    }
  }
})

t.test('a fractional iat on a token without exp: a whole-second TTL (Redis and Cluster)', async (t) => {
  for (const [name, redis] of [['redis', redisClient()], ['cluster', clusterClient()]] as const) {
    const { app } = await instance(t, { store: 'redis', redis, keyPrefix: `frac-${name}:`, maxTokenLifetime: 600 })
    const token = hs256({ sub: 'fraction', jti: `frac-${name}`, iat: now() - 0.5 })
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    await app.revoke(token)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', `${name}: revoked`)
    const ttl = await redis.ttl(`frac-${name}:{fraction}:jti:frac-${name}`)
    t.ok(ttl > 655 && ttl <= 661, `${name}: TTL iat + maxTokenLifetime + clockSkew, whole seconds (${ttl})`)
  }
})

t.test('the Redis script keeps the longer TTL and the later cutoff, each on its own (Redis and Cluster)', async (t) => {
  for (const [name, redis] of [['redis', redisClient()], ['cluster', clusterClient()]] as const) {
    const prefix = `keep-${name}:`
    const { app } = await instance(t, { store: 'redis', redis, keyPrefix: prefix })
    const store = app.jwtRevoke.store
    await store.revoke({ jti: 'j', sub: 's' }, 3660)
    await store.revoke({ jti: 'j', sub: 's' }, 2)
    const ttl = await redis.ttl(`${prefix}{s}:jti:j`)
    t.ok(ttl > 3600, `${name}: 3660 s kept (${ttl})`)
    await store.revoke({ jti: 'j', sub: 's' }, 7200)
    t.ok(await redis.ttl(`${prefix}{s}:jti:j`) > 3660, `${name}: a longer one extends it`)

    await store.revokeSubject('s', 1000.5, 3000)
    await store.revokeSubject('s', 2000, 10)
    t.equal(await redis.get(`${prefix}{s}:cutoff`), '2000', `${name}: the later cutoff`)
    t.ok(await redis.ttl(`${prefix}{s}:cutoff`) > 2900, `${name}: with the longer TTL`)
    await store.revokeSubject('s', 1500, 5000)
    t.equal(await redis.get(`${prefix}{s}:cutoff`), '2000', `${name}: an earlier cutoff with a longer TTL keeps the later cutoff`)
    t.ok(await redis.ttl(`${prefix}{s}:cutoff`) > 4900, `${name}: and takes the longer TTL`)

    await redis.set(`${prefix}{hand}:cutoff`, '3000')
    await store.revokeSubject('hand', 4000, 10)
    t.equal(await redis.get(`${prefix}{hand}:cutoff`), '4000', `${name}: a later cutoff replaces one set by hand`)
    t.equal(await redis.ttl(`${prefix}{hand}:cutoff`), -1, `${name}: which keeps having no TTL`)
    await store.revokeSubject('hand', 1000, 10)
    t.equal(await redis.get(`${prefix}{hand}:cutoff`), '4000', `${name}: an earlier one changes nothing`)
    await redis.set(`${prefix}{hand}:jti:forever`, '1')
    await store.revoke({ jti: 'forever', sub: 'hand' }, 10)
    t.equal(await redis.ttl(`${prefix}{hand}:jti:forever`), -1, `${name}: a token entry without TTL stays so`)
  }
})

t.test('request.revokeToken() of a client\'s token without jti is the client\'s fault: 401, not a programmer error', async (t) => {
  const { app, sign } = await instance(t, { requireJti: false })
  const reply = await app.inject({ method: 'POST', url: '/logout', headers: bearer(sign({ jti: undefined })) })
  t.equal(reply.statusCode, 401)
  t.equal(reply.json().code, 'FST_JWT_REVOKE_NO_JTI')
})
