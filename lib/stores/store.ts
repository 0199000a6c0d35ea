/** The claims of a token as the revocation check and revoke() read them, each checked for type: never the token itself. */
export interface RevocationClaims {
  jti?: string | undefined
  sub?: string | undefined
  /** Issued-at, Unix seconds: compared with the subject's cutoff. */
  iat?: number | undefined
  /** Expiry, Unix seconds: how long a revocation is kept (stores need not read it). */
  exp?: number | undefined
  /** The session (OpenID Connect `sid`): compared with the session's cutoff, when the store knows sessions. */
  sid?: string | undefined
}

/** How a store that keeps a copy of the deny-list (the Redis mirror) is doing. */
export interface StoreStatus {
  /** Whether checks are answered from the copy (otherwise from the store behind it). */
  synced: boolean
  entries: number
  /** When the last full sync finished (ms since the epoch), 0 before the first. */
  lastSync: number
}

/** What every revocation store implements. Each check is one round trip to the store. */
export interface RevocationStore {
  /**
   * Whether the token with these claims is revoked: its jti was revoked, or its subject (or session) has a cutoff at or after its iat.
   * May answer synchronously (an in-process store does, so the request never waits on a microtask it does not need).
   */
  isRevoked (claims: RevocationClaims): boolean | Promise<boolean>
  /** Deny-lists one token id for ttlSeconds; resolves once the store has acknowledged the write. */
  revoke (claims: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void>
  /** Revokes every token of sub issued at or before cutoff (Unix seconds), for ttlSeconds. Keeps a later cutoff already stored. */
  revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void>
  /**
   * Revokes every token of session sid issued at or before cutoff (Unix seconds), for ttlSeconds; keeps a later cutoff
   * already stored. Optional, so stores written before sessions existed still compile: app.revokeSession() then fails.
   */
  revokeSession? (sid: string, cutoff: number, ttlSeconds: number): Promise<void>
  /** Gets ready before the first check (called at register; the mirror loads the deny-list here). */
  start? (): Promise<void>
  /** How its copy of the deny-list is doing, for a store that keeps one (shown as `mirror` in app.jwtRevoke.stats()). */
  status? (): StoreStatus
  /** Releases what the store owns (called from Fastify's onClose). */
  close? (): Promise<void>
}
