import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { errorMessage, withDeadline } from '../deadline.js'
import type { MirrorEntries } from './mirror-entries.js'
import type { MirrorMessage } from './mirror-message.js'
import { Backoff } from './mirror-retry.js'
import type { Subscription } from './mirror-subscription.js'
import { keyCount, scanEntries, type ScannedEntry } from './redis-scan.js'

export interface MirrorSyncOptions {
  client: Redis | Cluster
  keyPrefix: string
  subscription: Subscription
  entries: MirrorEntries
  /** The heartbeat period: subscribing and hearing the end marker get five of them; retries back off from one. */
  beatMs: number
  /** The mirror's id: the markers that end its syncs are named after it. */
  id: string
  /** Publishes the marker that ends a sync (a ping with this id). */
  publishMarker: (id: string) => Promise<unknown>
  /** Called when a sync completes. */
  synced: () => void
  log?: FastifyBaseLogger | undefined
}

function apply (entries: MirrorEntries, message: MirrorMessage, now: number): void {
  if (message[0] === 't') entries.addToken(message[1], now + message[2] * 1000)
  // 'c' and 's': a subject's or a session's cutoff, both kept by the copy's cutoff table under their own entries.
  else entries.addCutoff(message[1], message[2], now + message[3] * 1000)
}

/**
 * Whether the mirror's copy can be trusted, and the syncs that make it so. A sync subscribes, loads everything with
 * SCAN into the same entries (in place, stamping a new generation: see MirrorEntries), and ends with a marker it
 * publishes and must hear back on the same, never-closed connection; any loss of the subscription (connection closed,
 * heartbeat not heard, an entry it cannot hold) makes it stale until a new sync succeeds. Failed syncs are retried with
 * a backoff, so a mirror recovers by itself, an overflowed one included once its entries fit again.
 */
export class MirrorSync {
  readonly #options: MirrorSyncOptions
  readonly #backoff: Backoff
  #synced = false
  #closed = false
  #lastSync = 0
  #running: Promise<void> | undefined
  /** A sync is loading: whatever it hears is part of it. */
  #loading = false
  /** Why the load cannot be trusted (a message overflowed the entries). */
  #loadError: unknown
  /** The ping that ends the current sync, and what to call when it is heard. */
  #marker: { id: string, heard: () => void } | undefined
  #markers = 0

  constructor (options: MirrorSyncOptions) {
    this.#options = options
    this.#backoff = new Backoff(options.beatMs, () => { if (!this.#synced) this.resync() })
  }

  get synced (): boolean {
    return this.#synced
  }

  /** When the last full sync finished (ms since the epoch), 0 before the first. */
  get lastSync (): number {
    return this.#lastSync
  }

  /** Runs a sync unless one runs already; resolves once in sync, or rejects with why it failed (and retries later). */
  sync (): Promise<void> {
    this.#running ??= this.#loop().finally(() => { this.#running = undefined })
    return this.#running
  }

  /** A sync in the background: its failure is logged and retried. */
  resync (): void {
    this.sync().catch(() => {})
  }

  /** The copy can no longer be trusted: checks go to Redis until a new sync succeeds. */
  stale (reason: string): void {
    this.#backoff.later()
    if (!this.#synced) return
    this.#synced = false
    this.#options.log?.warn({ reason }, 'jwt-revoke: the Redis mirror is out of sync; checks are answered by Redis until it resyncs')
  }

  /** Applies a write heard or made here. Never throws: an entry that does not fit makes the mirror stale. */
  apply (message: MirrorMessage): void {
    try {
      apply(this.#options.entries, message, Date.now())
    } catch (error) {
      if (this.#loading) this.#loadError ??= error
      // A full mirror cannot hold what others revoke: it must stop answering rather than answer wrong.
      else this.stale(errorMessage(error))
    }
  }

  /** A ping that is not a heartbeat was heard: it may be the marker that ends the current sync. */
  heard (id: string): void {
    if (id === this.#marker?.id) this.#marker.heard()
  }

  close (): void {
    this.#closed = true
    this.#backoff.stop()
  }

  async #loop (): Promise<void> {
    // A closed mirror stops here: another round would open a new subscription.
    while (!this.#closed) {
      const { entries } = this.#options
      entries.beginSync()
      let complete: boolean
      try {
        complete = await this.#load()
      } catch (error) {
        entries.abortSync()
        this.#backoff.failed()
        this.#options.log?.warn({ err: error }, 'jwt-revoke: the Redis mirror could not sync; it will retry')
        this.#backoff.later()
        throw error
      }
      if (complete) {
        entries.endSync()
        this.#lastSync = Date.now()
        this.#backoff.succeeded()
        this.#synced = true
        this.#options.synced()
        return
      }
      entries.abortSync()
      this.#options.log?.warn('jwt-revoke: the Redis mirror lost its subscription while it synced; it syncs again')
    }
  }

  /**
   * Loads into the entries; answers whether the load ran from start to end on one subscription that never closed.
   * Messages published while the subscription is down are lost, so a load that saw it close may lack them, and is not
   * trusted. Subscribed before the SCAN starts, so whatever is written during the SCAN arrives as a message. The load
   * ends with a marker this mirror publishes: Redis delivers a channel's messages in the order it ran the PUBLISHes,
   * so once the marker is heard, every write made before the load ended has been either loaded or heard.
   */
  async #load (): Promise<boolean> {
    const { subscription, entries, client, keyPrefix, beatMs } = this.#options
    const losses = subscription.losses
    this.#loadError = undefined
    try {
      await this.#subscribe()
      this.#loading = true
      // Out of sync, the copy answers nothing, so a table too large to rehash in place may be emptied into a larger one.
      entries.reserve(await keyCount(client), !this.#synced)
      // Before the SCAN: a new table's pages are committed in slices here, not one fault per entry in the load's steps.
      await entries.commitMemory()
      await scanEntries(client, keyPrefix, (entry: ScannedEntry) => {
        // Read after the SCAN step that found the key: its expiry here is never earlier than in Redis.
        const now = Date.now()
        if (entry.kind === 'token') entries.addToken(entry.entry, now + entry.ttlMs)
        else entries.addCutoff(entry.entry, entry.cutoff, now + entry.ttlMs)
      })
      if (losses !== subscription.losses) return false
      // Lost while the marker travels, the marker is never heard (this sync fails at the deadline, and is retried),
      // or heard on the new connection, after messages lost in between: hence the second look at `losses`.
      await withDeadline(this.#hearMarker(), 5 * beatMs)
      if (this.#loadError !== undefined) throw this.#loadError
      return losses === subscription.losses
    } finally {
      this.#loading = false
      this.#marker = undefined
    }
  }

  async #subscribe (): Promise<void> {
    const { subscription, beatMs } = this.#options
    try {
      await withDeadline(subscription.subscribe(), 5 * beatMs)
    } catch (error) {
      // That connection (on a Cluster, that node) may never come back: the next attempt opens a new one.
      subscription.reset()
      throw error
    }
  }

  async #hearMarker (): Promise<void> {
    const id = `${this.#options.id}:${++this.#markers}`
    const heard = new Promise<void>((resolve) => { this.#marker = { id, heard: resolve } })
    await this.#options.publishMarker(id)
    await heard
  }
}
