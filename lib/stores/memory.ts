import { StoreFullError } from '../errors.js'
import type { RevocationClaims, RevocationStore } from './store.js'

interface Cutoff {
  cutoff: number
  expiresAt: number
}

export interface MemoryStoreOptions {
  /** Live entries (revoked ids plus subject cutoffs) the store may hold; a revoke beyond it fails loudly. */
  maxEntries?: number
  /** Milliseconds between sweeps of expired entries; a sweep only ever runs inside a write. */
  sweepInterval?: number
  /** The clock, in milliseconds (tests move it). */
  now?: () => number
}

// A subject's length is written before it, so ('a:b', 'c') and ('a', 'b:c') can never make the same key.
function entryKey (jti: string, sub: string | undefined): string {
  return sub === undefined ? jti : `${sub.length}:${sub}:${jti}`
}

/**
 * The embedded default: two Maps in this process. Entries expire lazily (a read of an expired entry drops it) and in
 * sweeps that writes trigger at most once per sweepInterval, so no timer is ever armed, per entry or at all. The store
 * is bounded: when full even after a sweep, revoke() rejects instead of silently forgetting an older revocation.
 * It answers synchronously. It is per process: instances behind a load balancer need the Redis store.
 */
export class MemoryStore implements RevocationStore {
  readonly #revoked = new Map<string, number>()
  readonly #cutoffs = new Map<string, Cutoff>()
  readonly #maxEntries: number
  readonly #sweepInterval: number
  readonly #now: () => number
  #nextSweep: number

  constructor (options: MemoryStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000
    this.#sweepInterval = options.sweepInterval ?? 60_000
    this.#now = options.now ?? Date.now
    this.#nextSweep = this.#now() + this.#sweepInterval
  }

  /** Live and not-yet-swept entries. */
  get size (): number {
    return this.#revoked.size + this.#cutoffs.size
  }

  isRevoked ({ jti, sub, iat }: RevocationClaims): boolean {
    const now = this.#now()
    if (jti !== undefined) {
      const key = entryKey(jti, sub)
      const expiresAt = this.#revoked.get(key)
      if (expiresAt !== undefined) {
        if (expiresAt > now) return true
        this.#revoked.delete(key)
      }
    }
    if (sub === undefined) return false
    const cutoff = this.#cutoffs.get(sub)
    if (cutoff === undefined) return false
    if (cutoff.expiresAt <= now) {
      this.#cutoffs.delete(sub)
      return false
    }
    // A token without iat cannot prove it was issued after the cutoff.
    return iat === undefined || iat <= cutoff.cutoff
  }

  async revoke ({ jti, sub }: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void> {
    const key = entryKey(jti, sub)
    const expiresAt = this.#now() + ttlSeconds * 1000
    const current = this.#revoked.get(key)
    if (current === undefined) this.#makeRoom()
    if (current === undefined || current < expiresAt) this.#revoked.set(key, expiresAt)
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    const current = this.#cutoffs.get(sub)
    if (current !== undefined && current.cutoff >= cutoff && current.expiresAt > this.#now()) return
    if (current === undefined) this.#makeRoom()
    this.#cutoffs.set(sub, { cutoff, expiresAt: this.#now() + ttlSeconds * 1000 })
  }

  /** Drops every expired entry; returns how many it dropped. */
  sweep (): number {
    const now = this.#now()
    this.#nextSweep = now + this.#sweepInterval
    let dropped = 0
    for (const [key, expiresAt] of this.#revoked) {
      if (expiresAt <= now) {
        this.#revoked.delete(key)
        dropped++
      }
    }
    for (const [sub, { expiresAt }] of this.#cutoffs) {
      if (expiresAt <= now) {
        this.#cutoffs.delete(sub)
        dropped++
      }
    }
    return dropped
  }

  #makeRoom (): void {
    if (this.#now() >= this.#nextSweep || this.size >= this.#maxEntries) this.sweep()
    if (this.size >= this.#maxEntries) throw new StoreFullError(this.#maxEntries)
  }
}
