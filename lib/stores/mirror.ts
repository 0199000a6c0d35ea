import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { withDeadline } from '../deadline.js'
import { cutoffEntry, jtiEntry, sessionEntry } from '../keys.js'
import type { Durability } from '../options.js'
import { MirrorEntries } from './mirror-entries.js'
import { Heartbeat } from './mirror-heartbeat.js'
import { parseMessage, type Ping } from './mirror-message.js'
import { Subscription } from './mirror-subscription.js'
import { MirrorSync } from './mirror-sync.js'
import { RedisStore } from './redis.js'
import type { RevocationClaims, RevocationStore, StoreStatus } from './store.js'

export interface MirrorStoreOptions {
  client: Redis | Cluster
  keyPrefix?: string
  ownsClient?: boolean
  /** Live entries the mirror may hold; beyond it the mirror is out of sync (checks go to Redis) until they fit. */
  maxEntries?: number
  /**
   * Entries up to which the mirror's table grows in place, rehashing at once (under about 10 ms). A larger table that
   * fills up makes the mirror resync into a table half as large again (its checks go to Redis meanwhile), rather than
   * stall the event loop and hold two tables at once. Default 65 536.
   */
  growInPlaceUpTo?: number
  /** Milliseconds between heartbeats; three missed ones mark the mirror stale. Default 1000. */
  heartbeat?: number
  /** Milliseconds Redis gets to confirm a revocation the mirror holds before the mirror refuses anyway. Default 100. */
  confirmTimeout?: number
  log?: FastifyBaseLogger
  /** Passed to the writer: see RedisStoreOptions. */
  durability?: Durability | undefined
}

export type MirrorStatus = StoreStatus

/** Milliseconds between two sweep slices of expired and stale entries: a full pass over 14.3 M slots (10 M entries) takes about 90 s. */
const SWEEP_EVERY_MS = 100

/** Whether the copy holds a cutoff for this subject or session entry at or after iat. */
function isCut (entries: MirrorEntries, entry: string | undefined, iat: number | undefined): boolean {
  if (entry === undefined) return false
  const cutoff = entries.cutoffOf(entry)
  // A token without iat cannot prove it was issued after the cutoff.
  return cutoff !== undefined && (iat === undefined || iat <= cutoff)
}

/**
 * Mirror mode: every instance keeps the whole live deny-list in process, so a check that finds nothing (nearly every
 * check) is a local lookup with no round trip. Every write to Redis, whoever makes it, is published on a channel by
 * the script that writes it; each mirror applies what it hears (see MirrorSync for when the copy is trusted).
 *
 * Until the copy is in sync (loading at start, after a gap, or while it cannot hold every entry), checks are answered
 * by Redis exactly as in lookup mode, through the writer's own lookup on the same client: a mirror never refuses a
 * request because it is loading. A check the copy does find revoked is confirmed by Redis before it is refused, since
 * the copy keeps fingerprints and two entries may share one (see MirrorEntries); should Redis not confirm in time, the
 * token is refused (a fingerprint match that is not a revocation is a 1 in 10^12 event at 10 million entries).
 */
export class MirrorStore implements RevocationStore {
  readonly writer: RedisStore
  readonly #entries: MirrorEntries
  readonly #subscription: Subscription
  readonly #sync: MirrorSync
  readonly #heartbeat: Heartbeat
  readonly #id = randomUUID()
  readonly #confirmTimeout: number
  #sweeper: NodeJS.Timeout | undefined

  constructor (options: MirrorStoreOptions) {
    this.writer = new RedisStore({ client: options.client, keyPrefix: options.keyPrefix, ownsClient: options.ownsClient, log: options.log, durability: options.durability })
    const beatMs = options.heartbeat ?? 1000
    this.#confirmTimeout = options.confirmTimeout ?? 100
    this.#entries = new MirrorEntries({ maxEntries: options.maxEntries, growInPlaceUpTo: options.growInPlaceUpTo })
    this.#subscription = new Subscription(options.client, this.writer.channel, {
      message: (text) => this.#onMessage(text),
      lost: () => this.#sync.stale('the subscriber connection closed'),
      ready: () => this.#sync.resync()
    })
    this.#heartbeat = new Heartbeat(beatMs, async () => await this.#publish(['p', this.#id]), () => {
      if (!this.#sync.synced) return
      this.#sync.stale('its heartbeat stopped coming back')
      this.#sync.resync()
    })
    this.#sync = new MirrorSync({
      client: options.client,
      keyPrefix: this.writer.keyPrefix,
      subscription: this.#subscription,
      entries: this.#entries,
      beatMs,
      id: this.#id,
      publishMarker: async (id) => await this.#publish(['p', id]),
      synced: () => this.#heartbeat.restart(),
      log: options.log
    })
  }

  /**
   * Subscribes, loads the deny-list and starts the heartbeat; resolves after the first full sync, or rejects with why
   * it failed (the mirror then retries by itself, and checks are answered by Redis meanwhile).
   */
  async start (): Promise<void> {
    this.#heartbeat.start()
    this.#sweeper ??= setInterval(() => this.#entries.sweepSlice(), SWEEP_EVERY_MS).unref()
    await Promise.all([this.writer.start(), this.#sync.sync()])
  }

  status (): MirrorStatus {
    return { synced: this.#sync.synced, entries: this.#entries.size, lastSync: this.#sync.lastSync }
  }

  isRevoked (claims: RevocationClaims): boolean | Promise<boolean> {
    if (!this.#sync.synced) return this.writer.isRevoked(claims)
    const { jti, sub, iat, sid } = claims
    if (jti !== undefined && this.#entries.hasToken(jtiEntry(jti, sub))) return this.#confirm(claims)
    // A session cutoff covers a token of that session as a subject cutoff covers a token of that subject.
    if (isCut(this.#entries, sub === undefined ? undefined : cutoffEntry(sub), iat)) return this.#confirm(claims)
    if (isCut(this.#entries, sid === undefined ? undefined : sessionEntry(sid), iat)) return this.#confirm(claims)
    return false
  }

  async revoke (claims: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void> {
    await this.writer.revoke(claims, ttlSeconds)
    // Applied here at once: this instance refuses the token as soon as revoke() resolves, without waiting for its echo.
    this.#sync.apply(['t', jtiEntry(claims.jti, claims.sub), ttlSeconds])
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.writer.revokeSubject(sub, cutoff, ttlSeconds)
    this.#sync.apply(['c', cutoffEntry(sub), cutoff, ttlSeconds])
  }

  async revokeSession (sid: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.writer.revokeSession(sid, cutoff, ttlSeconds)
    this.#sync.apply(['s', sessionEntry(sid), cutoff, ttlSeconds])
  }

  async close (): Promise<void> {
    this.#sync.close()
    this.#heartbeat.stop()
    clearInterval(this.#sweeper)
    this.#subscription.close()
    await this.writer.close()
  }

  /** Redis's word on a token the copy holds revoked; without an answer in time, the copy's word stands. */
  async #confirm (claims: RevocationClaims): Promise<boolean> {
    try {
      return await withDeadline(this.writer.isRevoked(claims), this.#confirmTimeout)
    } catch {
      return true
    }
  }

  #onMessage (text: string): void {
    const message = parseMessage(text)
    if (message === undefined) return
    if (message[0] !== 'p') this.#sync.apply(message)
    else if (message[1] === this.#id) this.#heartbeat.heard()
    else this.#sync.heard(message[1])
  }

  #publish (ping: Ping): Promise<unknown> {
    return this.writer.client.publish(this.writer.channel, JSON.stringify(ping))
  }
}
