import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { withDeadline } from '../deadline.js'
import { InvalidOptionError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import { ownConnection, silenceLimit, type BorrowedClient } from './connection.js'
import { MemoryStore } from './memory.js'
import { MirrorStore } from './mirror.js'
import { RedisStore } from './redis.js'
import type { RevocationStore } from './store.js'

/**
 * Picks the store the options ask for. A Redis store always runs on a connection of its own (see ownConnection), made
 * from the URL or copied from the borrowed client's options, and closes it; the borrowed client itself is never touched.
 */
export function createStore (options: ResolvedOptions, fastify: FastifyInstance): RevocationStore {
  const { store, redis, keyPrefix } = options
  if (typeof store === 'object') return store
  if (store === 'memory') return new MemoryStore({ maxEntries: options.maxEntries })
  // resolveOptions refuses 'redis' when there is neither a client nor app.redis.
  const client = ownConnection(redis ?? appRedisClient(fastify), silenceLimit(options.storeTimeout))
  client.on('error', (err: Error) => fastify.log.warn({ err }, 'jwt-revoke: Redis connection error'))
  const ownsClient = true
  if (options.mode === 'mirror') {
    // Half the check's deadline to confirm a revocation the mirror holds: the check's own deadline is never reached.
    const confirmTimeout = Math.ceil(options.storeTimeout / 2)
    return new MirrorStore({ client, keyPrefix, ownsClient, maxEntries: options.maxEntries, confirmTimeout, log: fastify.log, durability: options.durability })
  }
  return new RedisStore({ client, keyPrefix, ownsClient, log: fastify.log, durability: options.durability })
}

/**
 * app.redis as one client. @fastify/redis registered with a `namespace` decorates app.redis with an object of clients
 * (app.redis.<namespace>) instead: which one holds the revocations is the app's choice, so it must name it.
 */
function appRedisClient (fastify: FastifyInstance): BorrowedClient {
  const redis = (fastify as FastifyInstance & { redis: BorrowedClient | Record<string, unknown> }).redis
  if (typeof (redis as Partial<BorrowedClient>).isCluster === 'boolean') return redis as BorrowedClient
  const namespaces = Object.keys(redis).map((name) => JSON.stringify(name)).join(', ')
  throw new InvalidOptionError('redis', `@fastify/redis is registered with the namespace(s) ${namespaces}, so app.redis is ` +
    'not a client: pass the client that holds the revocations, e.g. { redis: app.redis.<namespace> }')
}

/**
 * Says once, at info, which store is in use, and fails at ready when the store was left to its default and
 * @fastify/redis came too late to be it: registered after this plugin, it would have left every instance with a
 * memory store of its own, where a revocation never reaches the other instances. Following the late client instead
 * would make the store change after app.revoke() could already have been called; the operator fixes the order, or
 * asks for 'memory' explicitly.
 */
export function announceStore (fastify: FastifyInstance, options: ResolvedOptions): void {
  fastify.log.info(storeDescription(options), 'jwt-revoke: revocation store')
  if (!options.storeDefaulted || options.store !== 'memory') return
  fastify.addHook('onReady', async () => {
    if (!fastify.hasDecorator('redis')) return
    throw new InvalidOptionError('store', 'left to its default, it is a memory store of this process only, because @fastify/redis ' +
      'was not registered yet when fastify-jwt-revoke was; @fastify/redis was registered after it. Register @fastify/redis ' +
      "before fastify-jwt-revoke to keep revocations in Redis, or set store: 'memory' to keep them in this process")
  })
}

/** What the info line says: never a URL (it may hold a password). */
function storeDescription (options: ResolvedOptions): Record<string, unknown> {
  const { store, redis } = options
  if (typeof store === 'object') return { store: 'custom' }
  if (store === 'memory') return { store, shared: false, maxEntries: options.maxEntries }
  const client = typeof redis === 'string'
    ? 'owned: connects to the redis URL'
    : `borrowed: a connection of its own with the options of ${redis === undefined ? 'app.redis' : 'the redis option\'s client'}`
  return { store, mode: options.mode, client, keyPrefix: options.keyPrefix, durability: options.durability ?? false }
}

// A store that cannot get ready (Redis down at boot) does not block the server from starting: its checks fail, and
// onStoreError decides, until it is ready. Any store with start() is started here; only the ones made here are closed.
export async function startStore (store: RevocationStore, log: FastifyBaseLogger, storeTimeout: number): Promise<void> {
  if (store.start === undefined) return
  try {
    await withDeadline(store.start(), 10 * storeTimeout)
  } catch (error) {
    log.warn({ err: error }, 'jwt-revoke: the store is not ready yet; checks follow onStoreError until it is')
  }
}
