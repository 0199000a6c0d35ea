import { cutoffEntry, jtiEntry, sessionEntry } from '../keys.js'
import { DenyList, type DenyListOptions } from './deny-list.js'
import type { MirrorMessage } from './mirror-message.js'
import type { RevocationClaims, RevocationStore } from './store.js'

export type MemoryStoreOptions = DenyListOptions

// A subject's length is written before it, so ('a:b', 'c') and ('a', 'b:c') can never make the same key; a token
// without subject gets a leading ':', which a key with a subject (it starts with a digit) never has.
function tokenKey (jti: string, sub: string | undefined): string {
  return sub === undefined ? `:${jti}` : `${sub.length}:${sub}:${jti}`
}

/**
 * The embedded default: a bounded deny-list in this process, answering synchronously. It is per process: instances
 * behind a load balancer need the Redis store (or its mirror mode).
 */
export class MemoryStore implements RevocationStore {
  readonly entries: DenyList
  readonly #listeners = new Set<(message: MirrorMessage) => void>()

  constructor (options: MemoryStoreOptions = {}) {
    this.entries = new DenyList(options)
  }

  /** Live and not-yet-swept entries. */
  get size (): number {
    return this.entries.size
  }

  isRevoked ({ jti, sub, iat, sid }: RevocationClaims): boolean {
    return this.entries.has(jti === undefined ? undefined : tokenKey(jti, sub), sub, iat, sid)
  }

  async revoke ({ jti, sub }: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void> {
    this.entries.addToken(tokenKey(jti, sub), this.entries.now() + ttlSeconds * 1000)
    this.#announce(() => ['t', jtiEntry(jti, sub), ttlSeconds])
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    this.entries.addCutoff(sub, cutoff, this.entries.now() + ttlSeconds * 1000)
    this.#announce(() => ['c', cutoffEntry(sub), cutoff, ttlSeconds])
  }

  async revokeSession (sid: string, cutoff: number, ttlSeconds: number): Promise<void> {
    this.entries.addSession(sid, cutoff, this.entries.now() + ttlSeconds * 1000)
    this.#announce(() => ['s', sessionEntry(sid), cutoff, ttlSeconds])
  }

  /**
   * Calls listener with every revocation written here, in the form the Redis writers publish it: how the watches of
   * open connections hear of them (in process, so nothing is ever missed). Answers the function that stops it.
   */
  onRevocation (listener: (message: MirrorMessage) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  // The message is only made when someone listens: a store nobody watches pays nothing for it.
  #announce (message: () => MirrorMessage): void {
    if (this.#listeners.size === 0) return
    const made = message()
    for (const listener of this.#listeners) listener(made)
  }
}
