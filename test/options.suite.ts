import { Writable } from 'node:stream'
import fastifyJwt from '@fastify/jwt'
import fastifyRedis from '@fastify/redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import jwtRevoke, { MemoryStore, RedisStore, type JwtRevokeOptions } from '../index.js'
import { SECRET } from './helpers/app.js'
import { startRedisFor } from './helpers/redis-server.js'

async function register (options: unknown, withJwt = true): Promise<Error | undefined> {
  const app = Fastify()
  if (withJwt) await app.register(fastifyJwt, { secret: SECRET })
  try {
    await app.register(jwtRevoke, options as JwtRevokeOptions)
    await app.ready()
    return undefined
  } catch (error) {
    return error as Error
  } finally {
    await app.close()
  }
}

const invalid: Array<[string, unknown]> = [
  ['storeTimeout', { storeTimeout: 0 }],
  ['storeTimeout', { storeTimeout: 'fast' }],
  ['clockSkew', { clockSkew: -1 }],
  ['maxTokenLifetime', { maxTokenLifetime: 1.5 }],
  ['onStoreError', { onStoreError: 'ignore' }],
  ['store', { store: 'postgres' }],
  ['store', { store: { isRevoked: () => false } }],
  ['store', { store: 'redis' }],
  ['redis', { redis: 'http://localhost' }],
  ['redis', { redis: { get: () => null } }],
  ['keyPrefix', { keyPrefix: 'a{b}' }],
  ['requireJti', { requireJti: 'yes' }],
  ['maxEntries', { maxEntries: 0 }],
  ['storeTimeOut', { storeTimeOut: 100 }],
  ['durability.replicas', { store: 'redis', redis: 'redis://127.0.0.1:1', durability: { replicas: 0, timeout: 50 } }],
  ['durability.timeout', { store: 'redis', redis: 'redis://127.0.0.1:1', durability: { replicas: 1 } }],
  ['durability.wait', { store: 'redis', redis: 'redis://127.0.0.1:1', durability: { replicas: 1, timeout: 50, wait: true } }],
  ['durability', { store: 'memory', durability: { replicas: 1, timeout: 50 } }],
  // storeTimeout bounds the whole write: a WAIT as long or longer could never be waited for.
  ['durability.timeout', { store: 'redis', redis: 'redis://127.0.0.1:1', storeTimeout: 200, durability: { replicas: 1, timeout: 200 } }]
]

for (const [name, options] of invalid) {
  t.test(`an invalid ${name} fails register and names the option`, async (t) => {
    const error = await register(options)
    t.ok(error, 'register failed')
    t.equal((error as { code?: string }).code, 'FST_JWT_REVOKE_INVALID_OPTION')
    t.match(error?.message, `"${name}"`)
  })
}

t.test('a non-object options value is named as options', async (t) => {
  const error = await register('memory')
  t.equal((error as { code?: string }).code, 'FST_JWT_REVOKE_INVALID_OPTION')
  t.match(error?.message, '"options"')
})

t.test('valid options register, with every default', async (t) => {
  t.equal(await register(undefined), undefined)
  t.equal(await register({
    store: 'memory',
    keyPrefix: 'app:',
    clockSkew: 0,
    maxTokenLifetime: 3600,
    onStoreError: 'allow',
    storeTimeout: 50,
    requireJti: false,
    maxEntries: 10
  }), undefined)
  t.equal(await register({ store: new MemoryStore() }), undefined)
})

t.test('the plugin needs @fastify/jwt', async (t) => {
  const error = await register({}, false)
  t.match(error?.message, '@fastify/jwt')
})

t.test('the store is picked from the options', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke)
  t.type(app.jwtRevoke.store, MemoryStore, 'memory by default')
  await app.close()

  const withUrl = Fastify()
  await withUrl.register(fastifyJwt, { secret: SECRET })
  await withUrl.register(jwtRevoke, { redis: 'redis://127.0.0.1:1', storeTimeout: 50 })
  t.type(withUrl.jwtRevoke.store, RedisStore, 'redis when a URL is given')
  await withUrl.close()
})

t.test('a misspelled option names the option meant; a bad value names the values allowed', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ maxTokenLifeTime: 3600 }, 'maxTokenLifeTime', /unknown option; did you mean "maxTokenLifetime"\?/],
    [{ storetimeout: 50 }, 'storetimeout', /did you mean "storeTimeout"\?/],
    [{ keyprefx: 'a:' }, 'keyprefx', /did you mean "keyPrefix"\?/],
    [{ durability: { replicas: 1, timout: 50 } }, 'durability.timout', /did you mean "timeout"\?/],
    [{ store: 'Redis' }, 'store', /must be "memory", "redis" or a store object; did you mean "redis"\? \(got "Redis"\)/],
    [{ store: 5 }, 'store', /must be "memory", "redis" or a store object \(got number\)/],
    [{ onStoreError: 'fail' }, 'onStoreError', /must be "deny" or "allow" \(got "fail"\)/],
    [{ mode: 'mirorr' }, 'mode', /must be "lookup" or "mirror"; did you mean "mirror"\?/],
    [{ redis: 'localhost:6379' }, 'redis', /must be a redis:\/\/ or rediss:\/\/ URL or an ioredis client or Cluster/],
    [{ mode: 'm'.repeat(60) }, 'mode', /must be "lookup" or "mirror" \(got "m{40}…"\)/]
  ]
  for (const [options, name, message] of cases) {
    const error = await register(options)
    t.equal((error as { code?: string }).code, 'FST_JWT_REVOKE_INVALID_OPTION', name)
    t.match(error?.message, `"${name}"`)
    t.match(error?.message, message)
  }
  const unrelated = await register({ colour: 'blue' })
  t.notMatch(unrelated?.message, /did you mean/, 'no guess when no option is close')
  t.match(unrelated?.message, /options: store, redis, keyPrefix/, 'the options are listed instead')
})

t.test('a store left to its default, with @fastify/redis registered after the plugin, fails at ready saying the order', async (t) => {
  const redis = await startRedisFor(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke)
  await app.register(fastifyRedis, { url: redis.url })
  const error = await app.ready().then(() => undefined, (error: unknown) => error as Error & { code?: string })
  t.equal(error?.code, 'FST_JWT_REVOKE_INVALID_OPTION')
  t.match(error?.message, /"store".*memory store of this process only.*Register @fastify\/redis before fastify-jwt-revoke.*store: 'memory'/s)

  const explicit = Fastify()
  t.teardown(() => explicit.close())
  await explicit.register(fastifyJwt, { secret: SECRET })
  await explicit.register(jwtRevoke, { store: 'memory' })
  await explicit.register(fastifyRedis, { url: redis.url })
  await explicit.ready()
  t.type(explicit.jwtRevoke.store, MemoryStore, "store: 'memory' asked for explicitly is kept, whatever comes later")

  const inOrder = Fastify()
  t.teardown(() => inOrder.close())
  await inOrder.register(fastifyJwt, { secret: SECRET })
  await inOrder.register(fastifyRedis, { url: redis.url })
  await inOrder.register(jwtRevoke)
  await inOrder.ready()
  t.type(inOrder.jwtRevoke.store, RedisStore, '@fastify/redis registered first: the Redis store')
})

t.test('@fastify/redis under a namespace and no redis option: an error naming the namespace', async (t) => {
  const redis = await startRedisFor(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyRedis, { url: redis.url, namespace: 'cache' })
  const error = await app.register(jwtRevoke).then(() => undefined, (error: unknown) => error as Error & { code?: string })
  t.equal(error?.code, 'FST_JWT_REVOKE_INVALID_OPTION')
  t.match(error?.message, /"redis".*namespace\(s\) "cache".*\{ redis: app\.redis\.<namespace> \}/)

  const named = Fastify()
  t.teardown(() => named.close())
  await named.register(fastifyJwt, { secret: SECRET })
  await named.register(fastifyRedis, { url: redis.url, namespace: 'cache' })
  await named.register(jwtRevoke, { redis: named.redis.cache })
  await named.ready()
  const token = named.jwt.sign({ sub: 'u', jti: 'named-1' }, { expiresIn: 3600 })
  await named.revoke(token)
  t.equal(await named.isRevoked(token), true, 'the namespace\'s client named in the redis option is used')
})

/** The app's log lines at info and above, as parsed objects. */
function logged (): { stream: Writable, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } })
  return { stream, lines }
}

t.test('at start, one info line says which store is in use', async (t) => {
  const redis = await startRedisFor(t)
  const variants: Array<[string, (app: ReturnType<typeof Fastify>) => Promise<void>, Record<string, unknown>]> = [
    ['memory by default', async (app) => { await app.register(jwtRevoke) }, { store: 'memory', shared: false, maxEntries: 1_000_000 }],
    ['@fastify/redis, mirror mode', async (app) => {
      await app.register(fastifyRedis, { url: redis.url })
      await app.register(jwtRevoke, { mode: 'mirror' })
    }, { store: 'redis', mode: 'mirror', client: /^borrowed: .* app\.redis$/, keyPrefix: 'jwt-revoke:', durability: false }],
    ['a URL with a password', async (app) => {
      await app.register(jwtRevoke, { redis: `redis://:secret-password@127.0.0.1:${redis.port}`, keyPrefix: 'app:' })
    }, { store: 'redis', mode: 'lookup', client: /^owned/, keyPrefix: 'app:' }],
    ['a client in the redis option', async (app) => {
      const client = new Redis(redis.url)
      app.addHook('onClose', async () => { await client.quit() })
      await app.register(jwtRevoke, { redis: client })
    }, { store: 'redis', mode: 'lookup', client: /^borrowed: .* the redis option's client$/ }],
    ['a custom store', async (app) => { await app.register(jwtRevoke, { store: new MemoryStore() }) }, { store: 'custom' }]
  ]
  for (const [name, register, expected] of variants) {
    const { stream, lines } = logged()
    const app = Fastify({ logger: { level: 'info', stream } })
    await app.register(fastifyJwt, { secret: SECRET })
    await register(app)
    await app.ready()
    await app.close()
    const about = lines.filter((line) => line.msg === 'jwt-revoke: revocation store')
    t.equal(about.length, 1, `${name}: one line`)
    t.equal(about[0]?.level, 30, `${name}: at info`)
    t.match(about[0], expected, name)
    t.notMatch(JSON.stringify(lines), /secret-password/, `${name}: no password in the log`)
  }
})
