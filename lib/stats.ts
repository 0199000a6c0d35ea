import type { FastifyBaseLogger } from 'fastify'

/** Counters since the plugin was registered; cheap enough to bump on every request. */
export interface RevocationStats {
  /** Tokens looked up in the store by the check. */
  checks: number
  /** Requests refused with FST_JWT_REVOKED. */
  refusals: number
  /** Successful revoke() and revokeSubject() calls that wrote an entry. */
  revocations: number
  /** Store calls that failed or missed storeTimeout. */
  storeErrors: number
  /** Requests let through without an answer from the store (onStoreError: 'allow'). */
  failOpenPasses: number
}

export function emptyStats (): RevocationStats {
  return { checks: 0, refusals: 0, revocations: 0, storeErrors: 0, failOpenPasses: 0 }
}

/**
 * Logs store failures once per burst: the first failure after a quiet second is logged with its route and reason,
 * the rest of the burst is counted and reported with the next line. An outage under load must not turn into one log
 * line per request.
 */
export class BurstLog {
  #lastLogged = -Infinity
  #suppressed = 0
  readonly #windowMs: number

  constructor (windowMs = 1000) {
    this.#windowMs = windowMs
  }

  failure (log: FastifyBaseLogger, error: Error, details: Record<string, unknown>, message: string): void {
    const now = Date.now()
    if (now - this.#lastLogged < this.#windowMs) {
      this.#suppressed++
      return
    }
    log.error({ err: error, ...details, suppressedSinceLastLog: this.#suppressed }, message)
    this.#lastLogged = now
    this.#suppressed = 0
  }
}
