import { randomUUID } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Durability } from '../options.js'
import { describe, withDeadline } from '../deadline.js'
import { StoreUnavailableError } from '../errors.js'
import { cutoffKey, jtiKey } from '../keys.js'
import { DenyList } from './deny-list.js'
import { RedisStore, type MirrorMessage } from './redis.js'
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

type Ping = ['p', string]

/**
 * Mirror mode: every instance keeps the whole live deny-list in process, so a check is a local lookup with no round
 * trip. Writes go to Redis and are published on a channel by the same Lua script; each instance applies what it hears.
 * The mirror trusts itself only while it is in sync: it loads everything with SCAN after subscribing, and it marks
 * itself stale (every check then fails, and onStoreError decides) when the subscriber connection drops or its own
 * heartbeat, published every `heartbeat` ms through Redis, stops coming back. It resyncs fully before trusting itself
 * again, so a revocation made while it was cut off is enforced once it is back.
 */
export class MirrorStore implements RevocationStore {
  readonly writer: RedisStore
  readonly #subscriber: Redis | Cluster
  readonly #channel: string
  readonly #id = randomUUID()
  readonly #maxEntries: number | undefined
  readonly #heartbeatMs: number
  readonly #log: FastifyBaseLogger | undefined
  #entries: DenyList
  #loading: DenyList | undefined
  #synced = false
  #syncing: Promise<void> | undefined
  #lastSync = 0
  #lastHeartbeat = 0
  #timer: NodeJS.Timeout | undefined
  #retry: NodeJS.Timeout | undefined

  constructor (options: MirrorStoreOptions) {
    const keyPrefix = options.keyPrefix ?? 'jwt-revoke:'
    this.#channel = `${keyPrefix}mirror`
    this.writer = new RedisStore({ client: options.client, keyPrefix, ownsClient: options.ownsClient, channel: this.#channel, log: options.log, durability: options.durability })
    this.#maxEntries = options.maxEntries
    this.#heartbeatMs = options.heartbeat ?? 1000
    this.#log = options.log
    this.#entries = new DenyList({ maxEntries: this.#maxEntries })
    // Redis#duplicate and Cluster#duplicate differ only in their optional arguments; called bare, both copy the client.
    this.#subscriber = (options.client as Redis).duplicate()
    const events = this.#subscriber as EventEmitter
    events.on('message', (_channel: string, message: string) => this.#onMessage(message))
    events.on('close', () => this.#stale('the subscriber connection closed'))
    events.on('ready', () => { this.#resync() })
    // Connection errors surface as 'close' and failed syncs; this listener only keeps ioredis from printing them.
    events.on('error', () => {})
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

  isRevoked ({ jti, sub, iat }: RevocationClaims): boolean {
    if (!this.#synced) throw new StoreUnavailableError('the Redis mirror is not in sync')
    const prefix = this.writer.keyPrefix
    return this.#entries.has(jti === undefined ? undefined : jtiKey(prefix, jti, sub), sub === undefined ? undefined : cutoffKey(prefix, sub), iat)
  }

  async revoke (claims: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void> {
    await this.writer.revoke(claims, ttlSeconds)
    // Applied here at once: this instance refuses the token as soon as revoke() resolves, without waiting for its echo.
    this.#apply(['t', jtiKey(this.writer.keyPrefix, claims.jti, claims.sub), ttlSeconds])
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.writer.revokeSubject(sub, cutoff, ttlSeconds)
    this.#apply(['c', cutoffKey(this.writer.keyPrefix, sub), cutoff, ttlSeconds])
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    clearTimeout(this.#retry)
    this.#subscriber.disconnect()
    await this.writer.close()
  }

  #apply (message: MirrorMessage): void {
    const now = Date.now()
    for (const list of [this.#entries, this.#loading]) {
      if (list === undefined) continue
      if (message[0] === 't') list.addToken(message[1], now + message[2] * 1000)
      else list.addCutoff(message[1], message[2], now + message[3] * 1000)
    }
  }

  #onMessage (text: string): void {
    let message: MirrorMessage | Ping
    try {
      message = JSON.parse(text) as MirrorMessage | Ping
    } catch {
      return
    }
    if (message[0] === 'p') {
      if (message[1] === this.#id) this.#lastHeartbeat = Date.now()
      return
    }
    try {
      this.#apply(message)
    } catch (error) {
      // A full mirror cannot hold what others revoke: it must stop answering rather than answer wrong.
      this.#stale(describe(error))
    }
  }

  #beat (): void {
    if (this.#synced && Date.now() - this.#lastHeartbeat > 3 * this.#heartbeatMs) {
      this.#stale('its heartbeat stopped coming back')
      this.#resync()
    }
    const ping: Ping = ['p', this.#id]
    this.writer.client.publish(this.#channel, JSON.stringify(ping)).catch(() => {})
  }

  #stale (reason: string): void {
    if (!this.#synced) return
    this.#synced = false
    this.#log?.warn({ reason }, 'jwt-revoke: the Redis mirror is out of sync; checks follow onStoreError until it resyncs')
  }

  /** One full sync at a time; a failed one is retried on the next heartbeat. */
  #resync (): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => { this.#syncing = undefined })
    return this.#syncing
  }

  async #sync (): Promise<void> {
    const fresh = new DenyList({ maxEntries: this.#maxEntries })
    try {
      // Subscribed before the SCAN starts: whatever is written during the SCAN arrives as a message.
      await withDeadline(this.#subscriber.subscribe(this.#channel), 5 * this.#heartbeatMs)
      this.#loading = fresh
      const now = Date.now()
      await scanEntries(this.writer.client, this.writer.keyPrefix, (entry: ScannedEntry) => {
        if (entry.kind === 'token') fresh.addToken(entry.key, now + entry.ttlMs)
        else fresh.addCutoff(entry.key, entry.cutoff, now + entry.ttlMs)
      })
      this.#entries = fresh
      this.#lastSync = Date.now()
      this.#lastHeartbeat = this.#lastSync
      this.#synced = true
    } catch (error) {
      this.#log?.warn({ err: error }, 'jwt-revoke: the Redis mirror could not sync; it will retry')
      if (!this.#synced) this.#retry = setTimeout(() => { this.#resync() }, this.#heartbeatMs).unref()
    } finally {
      this.#loading = undefined
    }
  }
}
