import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import jwtRevoke, { MemoryStore, RedisStore, type JwtRevokeOptions } from '../index.js'
import { SECRET } from './helpers/app.js'

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
