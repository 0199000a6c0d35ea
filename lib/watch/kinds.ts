import { cutoffEntry, jtiEntry, sessionEntry } from '../keys.js'
import type { MirrorMessage } from '../stores/mirror-message.js'
import type { RevocationClaims } from '../stores/store.js'

/** Why a watched token's listener fired. */
export type RevokedReason =
  /** Its jti was revoked. */
  | 'token'
  /** Its subject was revoked up to a cutoff at or after its iat (logout everywhere). */
  | 'subject'
  /** Its session (`sid`) was revoked up to a cutoff at or after its iat (app.revokeSession, a back-channel logout). */
  | 'session'
  /** A check against the store found it revoked: when the watch started, or after the subscription came back. */
  | 'recheck'
  /** The subscription was lost, so a revocation may have been missed, and the watch asked to be closed then. */
  | 'gap'

/** A revocation as every writer announces it: the entry it wrote, and for a cutoff (subject or session) the instant it covers. */
export interface RevocationEvent {
  entry: string
  cutoff?: number | undefined
}

/** The event a writer's message announces (a Redis PUBLISH, or the memory store's in-process call). */
export function eventOf (message: MirrorMessage): RevocationEvent {
  return message[0] === 't' ? { entry: message[1] } : { entry: message[1], cutoff: message[2] }
}

/**
 * One way a token can be revoked: which store entry revokes it, and whether a write of that entry covers it. A watch
 * is indexed under the entry of each kind, so a revocation costs one map lookup, whatever the number of watches. A new
 * kind of revocation the deny-list learns is one more element of WATCH_KINDS (as the session `sid` cutoff was).
 */
export interface WatchKind {
  readonly reason: RevokedReason
  /** The entry of this kind that would revoke the token, or undefined when the token has none. */
  entry (claims: RevocationClaims): string | undefined
  /** Whether this write of the entry revokes the token. */
  covers (claims: RevocationClaims, event: RevocationEvent): boolean
}

const tokenKind: WatchKind = {
  reason: 'token',
  entry: ({ jti, sub }) => jti === undefined ? undefined : jtiEntry(jti, sub),
  covers: () => true
}

// As the check reads it: a token without iat cannot prove it was issued after the cutoff. A cutoff entry (a subject's
// or a session's) is only ever announced with its cutoff.
const coveredByCutoff: WatchKind['covers'] = ({ iat }, { cutoff }) => iat === undefined || iat <= (cutoff as number)

const subjectKind: WatchKind = {
  reason: 'subject',
  entry: ({ sub }) => sub === undefined ? undefined : cutoffEntry(sub),
  covers: coveredByCutoff
}

const sessionKind: WatchKind = {
  reason: 'session',
  entry: ({ sid }) => sid === undefined ? undefined : sessionEntry(sid),
  covers: coveredByCutoff
}

export const WATCH_KINDS: readonly WatchKind[] = [tokenKind, subjectKind, sessionKind]
