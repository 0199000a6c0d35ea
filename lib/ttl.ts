import { ExpiredBeyondError, LifetimeExceededError, NoExpError } from './errors.js'
import type { RevocationClaims } from './stores/store.js'

// How long a revocation entry must live, and how long a token may be accepted, in one place: the plugin's revoke(),
// revokeSubject() and check, and the ops CLI, all follow these rules. An entry that expires while some verifier of the
// app still accepts its token would let a revoked token back in, so every entry lives until the end of its token's
// acceptance (exp, or iat + maxTokenLifetime) plus clockSkew (verifiers whose clocks run behind) plus how long past
// exp the app may accept a token (the widest clockTolerance of its @fastify/jwt registrations, or acceptExpiredFor for
// routes that accept expired tokens on purpose). The check refuses a token accepted past exp + that (a per-call
// ignoreExpiration or wider tolerance), since its entry may be gone.

// Redis refuses an EX beyond about 292 years; a token that claims to live longer is kept for a century.
export const LONGEST_TTL = 100 * 365 * 24 * 3600
/** LONGEST_TTL in milliseconds: how long a key found without any TTL is taken to live. */
export const LONGEST_TTL_MS = LONGEST_TTL * 1000

// Unix seconds past this are evidently milliseconds (it is the year 5138).
const MILLISECONDS = 1e11

export interface TtlSettings {
  /** Seconds an entry is kept past the moment the token stops being accepted, for servers whose clocks run behind. */
  clockSkew: number
  /** The app's maxTokenLifetime: bounds tokens without exp (refused without it), and every token's acceptance. */
  maxTokenLifetime: number | undefined
  /** How long a subject cutoff lives: maxTokenLifetime, or its default. */
  cutoffLifetime: number
  /** Seconds past exp a verifier of the app may accept a token (clockTolerance, acceptExpiredFor); none for the CLI. */
  acceptedPastExp?: (() => number) | undefined
}

export function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

/** Seconds past the end of a token's acceptance that its revocation must outlive. */
function leeway (settings: TtlSettings): number {
  return settings.clockSkew + (settings.acceptedPastExp?.() ?? 0)
}

/** A TTL Redis takes: whole seconds (EX refuses a fraction), rounded up so the entry never ends early, and capped. */
function wholeTtl (seconds: number): number {
  return Math.min(Math.ceil(seconds), LONGEST_TTL)
}

/** Why a number given as Unix seconds cannot be one (it is milliseconds, or not a number), or undefined. */
export function unixSecondsProblem (seconds: number): string | undefined {
  if (!Number.isFinite(seconds)) return 'must be a Date or Unix seconds'
  if (seconds > MILLISECONDS) return `is ${seconds}, which looks like milliseconds; pass Unix seconds`
  return undefined
}

/**
 * Why a revokeSubject `before` (Unix seconds) cannot be recorded, or undefined. A cutoff in the future refuses every
 * token issued until then, new logins included: more than clockSkew ahead of this clock is a mistake, not a wish.
 */
export function cutoffProblem (seconds: number, clockSkew: number): string | undefined {
  return unixSecondsProblem(seconds) ?? (seconds > Date.now() / 1000 + clockSkew
    ? `is more than clockSkew (${clockSkew} s) in the future, which would refuse every new login of the subject until then`
    : undefined)
}

/** Seconds the revocation of one token must be kept: until its acceptance ends, plus the leeway. 0 or less: no need. */
export function tokenTtl (claims: { exp?: number | undefined, iat?: number | undefined }, settings: TtlSettings): number {
  const now = Date.now() / 1000
  if (claims.exp === undefined && settings.maxTokenLifetime === undefined) throw new NoExpError()
  // A fractional iat (RFC 7519 allows it) makes a fractional end: wholeTtl rounds it up.
  const end = claims.exp ?? (claims.iat ?? now) + (settings.maxTokenLifetime as number)
  return wholeTtl(end + leeway(settings) - now)
}

/**
 * The cutoff (Unix seconds, default now) of a revokeSubject and how long it must be kept: until the last token issued
 * at or before it has stopped being accepted. A ttl of 0 or less means every such token is refused already.
 */
export function subjectCutoff (before: number | undefined, settings: TtlSettings): { cutoff: number, ttl: number } {
  // Exact to the millisecond, not a whole second: a token with a fractional iat issued a moment after the cutoff is
  // compared with the cutoff itself. Whole-second iats of the cutoff's own second are refused, as they may predate it
  // (revokeSubject resolves only once that second is over, so a login after it gets a later iat).
  const now = Date.now() / 1000
  const cutoff = before ?? now
  return { cutoff, ttl: wholeTtl((cutoff - now) + settings.cutoffLifetime + leeway(settings)) }
}

/**
 * Refuses a verified token its revocation may no longer speak for. With maxTokenLifetime, no token is accepted past
 * iat + maxTokenLifetime, whatever its exp says (a subject cutoff lives only that long), nor without exp and iat (its
 * age is unknown). A token accepted past exp + acceptedPastExp (a per-call ignoreExpiration or wider tolerance) is
 * refused: its entry lives only that long (plus clockSkew, for this clock running behind).
 * A token with neither jti nor sub passes: nothing could ever revoke it, so nothing can have lapsed.
 */
export function assertStillRevocable (claims: RevocationClaims, settings: { maxTokenLifetime: number | undefined, acceptedPastExp: () => number }): void {
  if (claims.jti === undefined && claims.sub === undefined) return
  const now = Date.now() / 1000
  const lifetime = settings.maxTokenLifetime
  if (lifetime !== undefined) {
    if (claims.iat === undefined && claims.exp === undefined) throw new LifetimeExceededError('it has neither "exp" nor "iat"')
    if (claims.iat !== undefined && now > claims.iat + lifetime) throw new LifetimeExceededError(`it was issued more than maxTokenLifetime (${lifetime} s) ago`)
  }
  const pastExp = settings.acceptedPastExp()
  if (claims.exp !== undefined && now > claims.exp + pastExp) throw new ExpiredBeyondError(Math.floor(now - claims.exp), pastExp)
}
