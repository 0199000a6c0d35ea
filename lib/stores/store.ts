/** The claims a revocation check needs: never the token itself. */
export interface RevocationClaims {
  jti?: string | undefined
  sub?: string | undefined
  /** Issued-at, Unix seconds: compared with the subject's cutoff. */
  iat?: number | undefined
  /** The session (OpenID Connect `sid`): compared with the session's cutoff, when the store knows sessions. */
  sid?: string | undefined
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
  /** Releases what the store owns (called from Fastify's onClose). */
  close? (): Promise<void>
}
