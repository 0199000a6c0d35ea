import { NoExpError } from './errors.js'

// How long a revocation entry must live, in one place: the plugin's revoke()/revokeSubject() and the ops CLI write
// the same entries, and an entry that expires early would let a revoked token back in.

// Redis refuses an EX beyond about 292 years; a token that claims to live longer is kept for a century.
export const LONGEST_TTL = 100 * 365 * 24 * 3600

export interface TtlSettings {
  /** Seconds an entry is kept past the moment the token stops being accepted, for servers whose clocks run behind. */
  clockSkew: number
  /** The app's maxTokenLifetime: bounds tokens without exp (refused without it). */
  maxTokenLifetime: number | undefined
  /** How long a subject cutoff lives: maxTokenLifetime, or its default. */
  cutoffLifetime: number
}

export function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

/** Seconds the revocation of one token must be kept: until it expires, plus the clock-skew leeway. 0 or less: no need. */
export function tokenTtl (claims: { exp?: number | undefined, iat?: number | undefined }, settings: TtlSettings): number {
  const now = nowSeconds()
  if (claims.exp !== undefined) return Math.min(Math.ceil(claims.exp + settings.clockSkew - now), LONGEST_TTL)
  if (settings.maxTokenLifetime === undefined) throw new NoExpError()
  return (claims.iat ?? now) + settings.maxTokenLifetime + settings.clockSkew - now
}

/**
 * The cutoff (Unix seconds, default now) of a revokeSubject and how long it must be kept: until the last token issued
 * at or before it has expired. A ttl of 0 or less means every such token has expired already.
 */
export function subjectCutoff (before: number | undefined, settings: TtlSettings): { cutoff: number, ttl: number } {
  // Exact to the millisecond, not a whole second: a token with a fractional iat (RFC 7519 allows it) issued a moment
  // after the cutoff's second began is compared with the cutoff itself. Tokens with whole-second iats of that second
  // are refused, as they may predate it.
  const now = Date.now() / 1000
  const cutoff = before ?? now
  return { cutoff, ttl: Math.ceil((cutoff - now) + settings.cutoffLifetime + settings.clockSkew) }
}
