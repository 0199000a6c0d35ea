import type { FastifyBaseLogger } from 'fastify'
import { withDeadline } from '../deadline.js'
import type { RevocationClaims } from '../stores/store.js'
import type { FeedHandlers, RevocationFeed } from './feeds.js'
import type { RevocationEvent, RevokedReason } from './kinds.js'
import { WatchRegistry, type Watch } from './registry.js'

/** What a watched token's listener is told. */
export interface Revoked {
  reason: RevokedReason
}

export type RevokedListener = (revoked: Revoked) => void

export interface WatchOptions {
  /**
   * What to do when the subscription to the store's announcements is lost (a revocation made meanwhile would be
   * missed): 'recheck' (default) keeps the connection and checks its token against the store once the subscription
   * is back, ending it then if it was revoked; 'close' ends it at once, with the reason 'gap'.
   */
  onGap?: 'recheck' | 'close'
}

/** The watches' state, for app.jwtRevoke.watchStatus(). */
export interface WatchStatus {
  /** Tokens watched now. */
  watched: number
  /** Whether every revocation is being heard now (false before the first watch, and while the subscription is lost). */
  live: boolean
  /** How many times the subscription was lost. */
  gaps: number
  /** Watches checked against the store (each one at its start, then all of them after every gap). */
  rechecks: number
  /** Watches waiting for that check (or in it): until it answers, a revocation written before it may be unheard. */
  pending: number
}

export interface WatchHubOptions {
  /** Made at the first watch: nothing is subscribed before anything is watched. */
  feed: () => RevocationFeed
  /** Whether the store has these claims revoked: the store's own lookup, authoritative. */
  isRevoked: (claims: RevocationClaims) => boolean | Promise<boolean>
  storeTimeout: number
  /** Milliseconds before a failed check of the store is tried again (doubling, up to 30 times as long). */
  retryDelay: number
  log: FastifyBaseLogger
}

const MAX_RETRY_FACTOR = 30

/**
 * Ties long-lived connections to their tokens. A watch is first checked against the store (it may have been revoked
 * between the request's check and the watch), then hears every revocation the feed announces, in O(1) per write.
 * When the feed is lost, no gap is trusted: every watch is checked again once it is live (or told 'gap').
 */
export class WatchHub {
  readonly #options: WatchHubOptions
  readonly #registry = new WatchRegistry()
  /** Watches that a store check must still confirm: new ones, and all of them after a gap. */
  readonly #unchecked = new Set<Watch>()
  #feed: RevocationFeed | undefined
  #live = false
  #checkScheduled = false
  #failures = 0
  #retry: NodeJS.Timeout | undefined
  #gaps = 0
  #rechecks = 0
  #inFlight = 0

  constructor (options: WatchHubOptions) {
    this.#options = options
  }

  status (): WatchStatus {
    return {
      watched: this.#registry.size,
      live: this.#live,
      gaps: this.#gaps,
      rechecks: this.#rechecks,
      pending: this.#unchecked.size + this.#inFlight
    }
  }

  /** Calls listener once, when the token with these claims is revoked; answers the function that forgets the watch. */
  watch (claims: RevocationClaims, listener: RevokedListener, options: WatchOptions = {}): () => void {
    // Nothing can revoke a token with neither id, subject nor session: the check lets it pass, there is nothing to watch.
    if (claims.jti === undefined && claims.sub === undefined && claims.sid === undefined) return () => {}
    const watch = this.#registry.add(claims, (reason) => { listener({ reason }) }, options.onGap === 'close')
    this.#unchecked.add(watch)
    if (this.#feed === undefined) this.#startFeed()
    else this.#scheduleCheck()
    return () => { this.#forget(watch) }
  }

  close (): void {
    clearTimeout(this.#retry)
    this.#feed?.close()
    for (const watch of this.#registry.all) this.#forget(watch)
  }

  #startFeed (): void {
    const handlers: FeedHandlers = {
      revoked: (event) => { this.#revoked(event) },
      lost: () => { this.#lost() },
      live: () => {
        this.#live = true
        this.#scheduleCheck()
      }
    }
    this.#feed = this.#options.feed()
    this.#feed.start(handlers)
  }

  #forget (watch: Watch): void {
    this.#registry.delete(watch)
    this.#unchecked.delete(watch)
  }

  #fire (watch: Watch, reason: RevokedReason): void {
    // Once: a watch already told (or forgotten) is not in the registry any more.
    if (!this.#registry.has(watch)) return
    this.#forget(watch)
    try {
      watch.listener(reason)
    } catch (error) {
      this.#options.log.error({ err: error }, 'jwt-revoke: a listener of a revoked token threw')
    }
  }

  #revoked (event: RevocationEvent): void {
    for (const [watch, reason] of this.#registry.covered(event)) this.#fire(watch, reason)
  }

  #lost (): void {
    if (this.#live) this.#gaps++
    this.#live = false
    for (const watch of this.#registry.all) {
      if (watch.closeOnGap) this.#fire(watch, 'gap')
      else this.#unchecked.add(watch)
    }
  }

  /** The unchecked watches of this event-loop turn are checked together (on Redis: one MGET). */
  #scheduleCheck (): void {
    if (!this.#live || this.#checkScheduled || this.#retry !== undefined || this.#unchecked.size === 0) return
    this.#checkScheduled = true
    setImmediate(() => {
      this.#checkScheduled = false
      this.#check().catch(() => {})
    })
  }

  async #check (): Promise<void> {
    if (!this.#live) return
    const batch = [...this.#unchecked]
    this.#unchecked.clear()
    this.#rechecks += batch.length
    const { isRevoked, storeTimeout } = this.#options
    let answers: boolean[]
    this.#inFlight += batch.length
    try {
      answers = await withDeadline(Promise.all(batch.map((watch) => isRevoked(watch.claims))), storeTimeout)
    } catch (error) {
      this.#inFlight -= batch.length
      for (const watch of batch) if (this.#registry.has(watch)) this.#unchecked.add(watch)
      this.#failures++
      this.#options.log.warn({ err: error, watched: this.#unchecked.size },
        'jwt-revoke: the watched tokens could not be checked against the store; they are checked again later')
      this.#retryLater()
      return
    }
    this.#inFlight -= batch.length
    this.#failures = 0
    batch.forEach((watch, index) => { if (answers[index] === true) this.#fire(watch, 'recheck') })
  }

  #retryLater (): void {
    const delay = this.#options.retryDelay * Math.min(2 ** (this.#failures - 1), MAX_RETRY_FACTOR)
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.#scheduleCheck()
    }, delay).unref()
  }
}
