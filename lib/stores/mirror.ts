import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Durability } from '../options.js'
import { describe, withDeadline } from '../deadline.js'
import { StoreUnavailableError } from '../errors.js'
import { cutoffEntry, jtiEntry, sessionEntry } from '../keys.js'
import { DenyList } from './deny-list.js'
import { parseMessage, type MirrorMessage, type Ping } from './mirror-message.js'
import { Subscription } from './mirror-subscription.js'
import { RedisStore } from './redis.js'
import { scanEntries, type ScannedEntry } from './redis-scan.js'
import type { RevocationClaims, RevocationStore } from './store.js'

export interface MirrorStoreOptions {
  client: Redis | Cluster
  keyPrefix?: string
  ownsClient?: boolean
  maxEntries?: number
  /** Milliseconds between heartbeats; three missed ones mark the mirror stale. Default 1000. */
  heartbeat?: number
  log?: FastifyBaseLogger
  /** Passed to the writer: see RedisStoreOptions. */
  durability?: Durability | undefined
}

export interface MirrorStatus {
  synced: boolean
  entries: number
  /** When the last full sync finished (ms since the epoch), 0 before the first. */
  lastSync: number
}

/** A failed sync is retried after one heartbeat, then after twice as long each time, up to this many heartbeats. */
const MAX_RETRY_BEATS = 30

function add (list: DenyList, message: MirrorMessage, now: number): void {
  if (message[0] === 't') list.addToken(message[1], now + message[2] * 1000)
  else if (message[0] === 's') list.addSession(message[1], message[2], now + message[3] * 1000)
  else list.addCutoff(message[1], message[2], now + message[3] * 1000)
}

/**
 * Mirror mode: every instance keeps the whole live deny-list in process, so a check is a local lookup with no round
 * trip. Every write to Redis, whoever makes it, is published on a channel by the script that writes it; each mirror
 * applies what it hears. The mirror trusts itself only while it is in sync: a sync subscribes, loads everything with
 * SCAN, and ends with a marker it publishes and must hear back on the same, never-closed connection; any loss of the
 * subscription (connection closed, heartbeat not heard for three beats, an entry it cannot hold) marks it stale (every
 * check then fails, and onStoreError decides) until a new sync succeeds. Failed syncs are retried with a backoff, so a
 * mirror recovers by itself, an overflowed one included once its entries fit again.
 */
export class MirrorStore implements RevocationStore {
  readonly writer: RedisStore
  readonly #subscription: Subscription
  readonly #channel: string
  readonly #id = randomUUID()
  readonly #maxEntries: number | undefined
  readonly #heartbeatMs: number
  readonly #log: FastifyBaseLogger | undefined
  #entries: DenyList
  /** The list a sync is filling; what is heard meanwhile goes into it too. */
  #loading: DenyList | undefined
  /** Why the list being filled cannot be trusted (a message overflowed it). */
  #loadError: unknown
  /** The ping that ends the current sync, and what to call when it is heard. */
  #marker: { token: string, heard: () => void } | undefined
  #markers = 0
  #synced = false
  #closed = false
  #syncing: Promise<void> | undefined
  #failures = 0
  #lastSync = 0
  #lastHeartbeat = 0
  #timer: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined

  constructor (options: MirrorStoreOptions) {
    this.writer = new RedisStore({ client: options.client, keyPrefix: options.keyPrefix, ownsClient: options.ownsClient, log: options.log, durability: options.durability })
    this.#channel = this.writer.channel
    this.#maxEntries = options.maxEntries
    this.#heartbeatMs = options.heartbeat ?? 1000
    this.#log = options.log
    this.#entries = new DenyList({ maxEntries: this.#maxEntries })
    this.#subscription = new Subscription(options.client, this.#channel, {
      message: (text) => this.#onMessage(text),
      lost: () => this.#stale('the subscriber connection closed'),
      ready: () => { this.#resync() }
    })
  }

  /** Subscribes, loads the deny-list and starts the heartbeat; resolves after the first full sync. */
  async start (): Promise<void> {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#beat(), this.#heartbeatMs)
      this.#timer.unref()
    }
    await Promise.all([this.writer.start(), this.#resync()])
  }

  status (): MirrorStatus {
    return { synced: this.#synced, entries: this.#entries.size, lastSync: this.#lastSync }
  }

  isRevoked ({ jti, sub, iat, sid }: RevocationClaims): boolean {
    if (!this.#synced) throw new StoreUnavailableError('the Redis mirror is not in sync')
    return this.#entries.has(jti === undefined ? undefined : jtiEntry(jti, sub), sub === undefined ? undefined : cutoffEntry(sub), iat,
      sid === undefined ? undefined : sessionEntry(sid))
  }

  async revoke (claims: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void> {
    await this.writer.revoke(claims, ttlSeconds)
    // Applied here at once: this instance refuses the token as soon as revoke() resolves, without waiting for its echo.
    this.#apply(['t', jtiEntry(claims.jti, claims.sub), ttlSeconds])
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.writer.revokeSubject(sub, cutoff, ttlSeconds)
    this.#apply(['c', cutoffEntry(sub), cutoff, ttlSeconds])
  }

  async revokeSession (sid: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.writer.revokeSession(sid, cutoff, ttlSeconds)
    this.#apply(['s', sessionEntry(sid), cutoff, ttlSeconds])
  }

  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    clearTimeout(this.#retry)
    this.#subscription.close()
    await this.writer.close()
  }

  /** Never throws: an entry the mirror cannot hold makes it stale (the write itself is in Redis, for everyone else). */
  #apply (message: MirrorMessage): void {
    const now = Date.now()
    if (this.#loading !== undefined) {
      try {
        add(this.#loading, message, now)
      } catch (error) {
        this.#loadError ??= error
      }
    }
    // Out of sync, the current list is not consulted, and the next sync replaces it.
    if (!this.#synced) return
    try {
      add(this.#entries, message, now)
    } catch (error) {
      // A full mirror cannot hold what others revoke: it must stop answering rather than answer wrong.
      this.#stale(describe(error))
    }
  }

  #onMessage (text: string): void {
    const message = parseMessage(text)
    if (message === undefined) return
    if (message[0] !== 'p') this.#apply(message)
    else if (message[1] === this.#id) this.#lastHeartbeat = Date.now()
    else if (message[1] === this.#marker?.token) this.#marker.heard()
  }

  #beat (): void {
    if (this.#synced && Date.now() - this.#lastHeartbeat > 3 * this.#heartbeatMs) {
      this.#stale('its heartbeat stopped coming back')
      this.#resync()
    }
    this.#publish(['p', this.#id]).catch(() => {})
  }

  #publish (ping: Ping): Promise<unknown> {
    return this.writer.client.publish(this.#channel, JSON.stringify(ping))
  }

  #stale (reason: string): void {
    this.#retryLater()
    if (!this.#synced) return
    this.#synced = false
    this.#log?.warn({ reason }, 'jwt-revoke: the Redis mirror is out of sync; checks follow onStoreError until it resyncs')
  }

  #retryLater (): void {
    if (this.#retry !== undefined || this.#closed) return
    const delay = this.#heartbeatMs * Math.min(2 ** this.#failures, MAX_RETRY_BEATS)
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      if (!this.#synced) this.#resync()
    }, delay).unref()
  }

  /** One full sync at a time. */
  #resync (): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => { this.#syncing = undefined })
    return this.#syncing
  }

  async #sync (): Promise<void> {
    // A closed mirror stops here: another round would open a new subscription.
    while (!this.#closed) {
      const fresh = new DenyList({ maxEntries: this.#maxEntries })
      let complete: boolean
      try {
        complete = await this.#load(fresh)
      } catch (error) {
        this.#failures++
        this.#log?.warn({ err: error }, 'jwt-revoke: the Redis mirror could not sync; it will retry')
        this.#retryLater()
        return
      }
      if (complete) {
        this.#entries = fresh
        this.#lastSync = Date.now()
        this.#lastHeartbeat = this.#lastSync
        this.#failures = 0
        this.#synced = true
        return
      }
      this.#log?.warn('jwt-revoke: the Redis mirror lost its subscription while it synced; it syncs again')
    }
  }

  /**
   * Fills `fresh`; answers whether the load ran from start to end on one subscription that never closed. Messages
   * published while the subscription is down are lost, so a load that saw it close may lack them, and is not trusted.
   * Subscribed before the SCAN starts, so whatever is written during the SCAN arrives as a message. The load ends with
   * a marker this mirror publishes: Redis delivers a channel's messages in the order it ran the PUBLISHes, so once the
   * marker is heard, every write made before the load ended has been either loaded or heard.
   */
  async #load (fresh: DenyList): Promise<boolean> {
    const losses = this.#subscription.losses
    this.#loadError = undefined
    try {
      await this.#subscribe()
      this.#loading = fresh
      const now = Date.now()
      await scanEntries(this.writer.client, this.writer.keyPrefix, (entry: ScannedEntry) => {
        if (entry.kind === 'token') fresh.addToken(entry.entry, now + entry.ttlMs)
        else if (entry.kind === 'session') fresh.addSession(entry.entry, entry.cutoff, now + entry.ttlMs)
        else fresh.addCutoff(entry.entry, entry.cutoff, now + entry.ttlMs)
      })
      if (losses !== this.#subscription.losses) return false
      // Lost while the marker travels, the marker is never heard (this sync fails at the deadline, and is retried),
      // or heard on the new connection, after messages lost in between: hence the second look at `losses`.
      await withDeadline(this.#hearMarker(), 5 * this.#heartbeatMs)
      if (this.#loadError !== undefined) throw this.#loadError
      return losses === this.#subscription.losses
    } finally {
      this.#loading = undefined
      this.#marker = undefined
    }
  }

  async #subscribe (): Promise<void> {
    try {
      await withDeadline(this.#subscription.subscribe(), 5 * this.#heartbeatMs)
    } catch (error) {
      // That connection (on a Cluster, that node) may never come back: the next attempt opens a new one.
      this.#subscription.reset()
      throw error
    }
  }

  async #hearMarker (): Promise<void> {
    const token = `${this.#id}:${++this.#markers}`
    const heard = new Promise<void>((resolve) => { this.#marker = { token, heard: resolve } })
    await this.#publish(['p', token])
    await heard
  }
}
