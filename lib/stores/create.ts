import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { withDeadline } from '../deadline.js'
import type { ResolvedOptions } from '../options.js'
import { ownConnection, silenceLimit } from './connection.js'
import { MemoryStore } from './memory.js'
import { MirrorStore } from './mirror.js'
import { RedisStore } from './redis.js'
import type { RevocationStore } from './store.js'

/**
 * Picks the store the options ask for. A Redis store always runs on a connection of its own (see ownConnection), made
 * from the URL or duplicated from the borrowed client, and closes it; the borrowed client itself is never touched.
 */
export function createStore (options: ResolvedOptions, fastify: FastifyInstance): RevocationStore {
  const { store, redis, keyPrefix } = options
  if (typeof store === 'object') return store
  if (store === 'memory') return new MemoryStore({ maxEntries: options.maxEntries })
  // resolveOptions refuses 'redis' when there is neither a client nor app.redis.
  const client = ownConnection(redis ?? (fastify as FastifyInstance & { redis: Redis | Cluster }).redis, silenceLimit(options.storeTimeout))
  client.on('error', (err: Error) => fastify.log.warn({ err }, 'jwt-revoke: Redis connection error'))
  const ownsClient = true
  if (options.mode === 'mirror') {
    // Half the check's deadline to confirm a revocation the mirror holds: the check's own deadline is never reached.
    const confirmTimeout = Math.ceil(options.storeTimeout / 2)
    return new MirrorStore({ client, keyPrefix, ownsClient, maxEntries: options.maxEntries, confirmTimeout, log: fastify.log, durability: options.durability })
  }
  return new RedisStore({ client, keyPrefix, ownsClient, log: fastify.log, durability: options.durability })
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
