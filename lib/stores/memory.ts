import { DenyList, type DenyListOptions } from './deny-list.js'
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
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    this.entries.addCutoff(sub, cutoff, this.entries.now() + ttlSeconds * 1000)
  }

  async revokeSession (sid: string, cutoff: number, ttlSeconds: number): Promise<void> {
    this.entries.addSession(sid, cutoff, this.entries.now() + ttlSeconds * 1000)
  }
}
