import { StoreFullError } from '../errors.js'

interface Cutoff {
  cutoff: number
  expiresAt: number
}

export interface DenyListOptions {
  /** Live entries (revoked ids plus subject cutoffs) it may hold; an add beyond it fails loudly. */
  maxEntries?: number
  /** Milliseconds between sweeps of expired entries; a sweep only ever runs inside an add. */
  sweepInterval?: number
  /** The clock, in milliseconds (tests move it). */
  now?: () => number
}

/**
 * An in-process deny-list of revoked token keys and subject and session cutoffs, each with an absolute expiry. Entries expire
 * lazily (a read of an expired entry drops it) and in sweeps that adds trigger at most once per sweepInterval, so no
 * timer is ever armed, per entry or at all. It is bounded: when full even after a sweep, an add throws instead of
 * silently forgetting an older revocation. The memory store and the Redis mirror both keep their entries here.
 */
export class DenyList {
  readonly #revoked = new Map<string, number>()
  readonly #cutoffs = new Map<string, Cutoff>()
  /** Session cutoffs: a map of their own, so that no subject key can ever name a session. */
  readonly #sessions = new Map<string, Cutoff>()
  readonly #maxEntries: number
  readonly #sweepInterval: number
  readonly now: () => number
  #nextSweep: number

  constructor (options: DenyListOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000
    this.#sweepInterval = options.sweepInterval ?? 60_000
    this.now = options.now ?? Date.now
    this.#nextSweep = this.now() + this.#sweepInterval
  }

  /** Live and not-yet-swept entries. */
  get size (): number {
    return this.#revoked.size + this.#cutoffs.size + this.#sessions.size
  }

  /** Whether the token key is revoked, or the subject key (or the session key) has a cutoff at or after iat. */
  has (tokenKey: string | undefined, subjectKey: string | undefined, iat: number | undefined, sessionKey?: string): boolean {
    const now = this.now()
    if (tokenKey !== undefined) {
      const expiresAt = this.#revoked.get(tokenKey)
      if (expiresAt !== undefined) {
        if (expiresAt > now) return true
        this.#revoked.delete(tokenKey)
      }
    }
    return isCutBy(this.#cutoffs, subjectKey, iat, now) || isCutBy(this.#sessions, sessionKey, iat, now)
  }

  /** Keeps the later expiry: a revocation never gets shorter. */
  addToken (tokenKey: string, expiresAt: number): void {
    const current = this.#revoked.get(tokenKey)
    if (current === undefined) this.#makeRoom()
    if (current === undefined || current < expiresAt) this.#revoked.set(tokenKey, expiresAt)
  }

  /**
   * Keeps the later cutoff and the later expiry, each on its own, as the Redis store's script does: an older `before`
   * never moves a cutoff back, and a cutoff written with a shorter lifetime never ends an earlier one sooner.
   */
  addCutoff (subjectKey: string, cutoff: number, expiresAt: number): void {
    this.#addLater(this.#cutoffs, subjectKey, cutoff, expiresAt)
  }

  /** A session's cutoff, kept like a subject's: the later cutoff and the later expiry, each on its own. */
  addSession (sessionKey: string, cutoff: number, expiresAt: number): void {
    this.#addLater(this.#sessions, sessionKey, cutoff, expiresAt)
  }

  #addLater (cutoffs: Map<string, Cutoff>, key: string, cutoff: number, expiresAt: number): void {
    const current = cutoffs.get(key)
    if (current === undefined) this.#makeRoom()
    if (current === undefined || current.expiresAt <= this.now()) {
      cutoffs.set(key, { cutoff, expiresAt })
      return
    }
    current.cutoff = Math.max(current.cutoff, cutoff)
    current.expiresAt = Math.max(current.expiresAt, expiresAt)
  }

  /** Drops every expired entry; returns how many it dropped. */
  sweep (): number {
    const now = this.now()
    this.#nextSweep = now + this.#sweepInterval
    let dropped = 0
    for (const [key, expiresAt] of this.#revoked) {
      if (expiresAt <= now) {
        this.#revoked.delete(key)
        dropped++
      }
    }
    for (const cutoffs of [this.#cutoffs, this.#sessions]) {
      for (const [key, { expiresAt }] of cutoffs) {
        if (expiresAt <= now) {
          cutoffs.delete(key)
          dropped++
        }
      }
    }
    return dropped
  }

  #makeRoom (): void {
    if (this.now() >= this.#nextSweep || this.size >= this.#maxEntries) this.sweep()
    if (this.size >= this.#maxEntries) throw new StoreFullError(this.#maxEntries)
  }
}

/** Whether key has a live cutoff at or after iat; drops it when it has expired. */
function isCutBy (cutoffs: Map<string, Cutoff>, key: string | undefined, iat: number | undefined, now: number): boolean {
  if (key === undefined) return false
  const cutoff = cutoffs.get(key)
  if (cutoff === undefined) return false
  if (cutoff.expiresAt <= now) {
    cutoffs.delete(key)
    return false
  }
  // A token without iat cannot prove it was issued after the cutoff.
  return iat === undefined || iat <= cutoff.cutoff
}
