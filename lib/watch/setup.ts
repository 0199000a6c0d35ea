import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import { kChecked, type CheckedRequest } from '../check.js'
import { readClaims } from '../claims.js'
import { UnsupportedSetupError } from '../errors.js'
import { claimsObject } from '../payload.js'
import { MemoryStore } from '../stores/memory.js'
import { MirrorStore } from '../stores/mirror.js'
import { RedisStore } from '../stores/redis.js'
import type { RevocationClaims, RevocationStore } from '../stores/store.js'
import { memoryFeed, redisFeed, type RevocationFeed } from './feeds.js'
import { WatchHub, type RevokedListener, type WatchOptions } from './hub.js'

/** Milliseconds between the Redis feed's heartbeats, and before a failed store check is tried again. */
export const WATCH_HEARTBEAT = 1000

export interface Watching {
  hub: WatchHub | undefined
  /** app.jwtRevoke.watch: a payload the app verified. */
  watch (payload: unknown, listener: RevokedListener, options?: WatchOptions): () => void
  /** request.onRevoked: the token this request verified, forgotten when its connection closes. */
  onRevoked (request: FastifyRequest, listener: RevokedListener, options?: WatchOptions): () => void
}

interface Feeding {
  feed: () => RevocationFeed
  isRevoked: (claims: RevocationClaims) => boolean | Promise<boolean>
}

/** Where the store announces its revocations, and the store lookup that the watches' checks trust. */
function feedingOf (store: RevocationStore, heartbeat: number): Feeding | undefined {
  if (store instanceof MemoryStore) return { feed: () => memoryFeed(store), isRevoked: (claims) => store.isRevoked(claims) }
  // A mirror's own copy may not have heard a write that this feed's connection already delivered: its Redis is asked.
  const redis = store instanceof MirrorStore ? store.writer : store instanceof RedisStore ? store : undefined
  if (redis === undefined) return undefined
  return {
    feed: () => redisFeed({ client: redis.client, channel: redis.channel, heartbeat }),
    isRevoked: (claims) => redis.isRevoked(claims)
  }
}

export interface WatchingSettings {
  store: RevocationStore
  storeTimeout: number
  log: FastifyBaseLogger
  heartbeat?: number
}

/** The watches of one plugin registration (none for a custom store, which announces nothing this package can hear). */
export function watching ({ store, storeTimeout, log, heartbeat = WATCH_HEARTBEAT }: WatchingSettings): Watching {
  const feeding = feedingOf(store, heartbeat)
  const hub = feeding === undefined ? undefined : new WatchHub({ ...feeding, storeTimeout, retryDelay: heartbeat, log })

  function watch (payload: unknown, listener: RevokedListener, options?: WatchOptions): () => void {
    if (hub === undefined) throw new UnsupportedSetupError('watching tokens needs the memory or Redis store: a custom store announces no revocations')
    return hub.watch(readClaims(claimsObject(payload), false), listener, options)
  }

  function onRevoked (request: FastifyRequest, listener: RevokedListener, options?: WatchOptions): () => void {
    const claims = (request as CheckedRequest)[kChecked]
    if (claims == null) throw new UnsupportedSetupError('request.onRevoked() needs a token that this request verified first (app.authenticate or request.jwtVerify())')
    const socket = request.raw.socket
    const forget = (): void => { stop() }
    const stop = watch(claims, (revoked) => {
      socket.off('close', forget)
      listener(revoked)
    }, options)
    // The connection's end forgets the watch, whether or not the app remembers to.
    socket.once('close', forget)
    return () => {
      socket.off('close', forget)
      stop()
    }
  }

  return { hub, watch, onRevoked }
}
