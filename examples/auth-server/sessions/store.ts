import type { Role } from '../users/store.js'

/** A token the session store tracks: its id and expiry (Unix seconds), all the deny-list needs to revoke it. */
export interface TokenRef {
  jti: string
  exp: number
}

/**
 * A session family: one login, and every access and refresh token issued from it by rotation. Times of the session
 * are in milliseconds (a grace window of a second needs better than the second resolution of JWT claims); token
 * expiries are JWT NumericDates, in seconds.
 */
export interface SessionRecord {
  id: string
  userId: string
  /**
   * The user's role when the session started, signed into each access token of the family. Kept here rather than
   * read from the user store at refresh time: a rotation is one store call, with no user lookup.
   */
  role: Role
  userAgent: string
  createdAt: number
  lastRefreshedAt: number
  /** The one refresh token that may be exchanged now. */
  refresh: TokenRef
  /** The refresh token it replaced, and when: accepted again only within refreshReuseGrace. */
  previous: (TokenRef & { rotatedAt: number }) | null
  /** Access tokens issued in this family that have not expired yet: revoked with the family. */
  access: TokenRef[]
}

export interface RotateRequest {
  /** The session's user: a session is only ever looked up together with the user it belongs to. */
  userId: string
  sessionId: string
  /** The jti of the refresh token presented. */
  presented: string
  /** The pair to issue when the presented token is the current one. */
  next: { refresh: TokenRef, access: TokenRef }
  /** Milliseconds. */
  now: number
  /** refreshReuseGrace: seconds the previous refresh token is still accepted after a rotation. */
  grace: number
  /** Seconds the session lives from now (the refresh token's lifetime). */
  ttl: number
}

export type RotateResult =
  /** The presented token was the current one: `next` is now current. */
  | { outcome: 'rotated', session: SessionRecord }
  /**
   * The previous token, within the grace window: nothing rotates; the caller hands out `next.access` with the
   * current refresh token again (the one the other tab already has).
   */
  | { outcome: 'grace', session: SessionRecord }
  /** Any other token of the family: treated as theft, the session was ended and is returned to revoke its tokens. */
  | { outcome: 'reused', session: SessionRecord }
  /** No such session (ended, or expired). */
  | { outcome: 'missing' }

/**
 * Where session families live. Each method is atomic in the store itself (not in this process), so two instances
 * of the app sharing the store can never both rotate the same refresh token.
 */
export interface SessionStore {
  create (session: SessionRecord, ttl: number): Promise<void>
  rotate (request: RotateRequest): Promise<RotateResult>
  /** Removes the user's session and returns it (undefined when the user has no such session), to revoke its tokens. */
  end (userId: string, sessionId: string): Promise<SessionRecord | undefined>
  /** The user's live sessions, oldest first. */
  list (userId: string): Promise<SessionRecord[]>
}

/** The access tokens of a session still alive at `nowMs`: expired ones need no revocation, nor a place in the store. */
export function liveAccess (access: TokenRef[], nowMs: number): TokenRef[] {
  return access.filter((token) => token.exp * 1000 > nowMs)
}
