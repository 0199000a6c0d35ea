import { InvalidClaimError, NoJtiError } from './errors.js'
import type { RevocationClaims } from './stores/store.js'

/** A verified JWT payload as this package reads it: claims it has not checked yet are unknown. */
export interface TokenPayload {
  jti?: unknown
  sub?: unknown
  sid?: unknown
  iat?: unknown
  exp?: unknown
  [claim: string]: unknown
}

/** The claims the revocation check and revoke() use, each checked for type. */
export interface RevocableClaims extends RevocationClaims {
  exp?: number | undefined
}

function optionalString (payload: TokenPayload, name: 'jti' | 'sub' | 'sid'): string | undefined {
  const value = payload[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw new InvalidClaimError(name, 'it must be a non-empty string')
  return value
}

function optionalNumericDate (payload: TokenPayload, name: 'iat' | 'exp'): number | undefined {
  const value = payload[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidClaimError(name, 'it must be a number of seconds')
  return value
}

/** The OpenID Connect session id (`sid`), type-checked like jti and sub. */
function sessionOf (payload: TokenPayload): { sid?: string } {
  const sid = optionalString(payload, 'sid')
  return sid === undefined ? {} : { sid }
}

/** Reads and type-checks jti, sub, iat, exp and sid; throws FST_JWT_REVOKE_INVALID_CLAIM or, when required, FST_JWT_REVOKE_NO_JTI. */
export function readClaims (payload: unknown, requireJti: boolean): RevocableClaims {
  if (typeof payload !== 'object' || payload === null) throw new InvalidClaimError('payload', 'it must be a JSON object')
  const claims = payload as TokenPayload
  const jti = optionalString(claims, 'jti')
  if (jti === undefined && requireJti) throw new NoJtiError()
  return {
    jti,
    sub: optionalString(claims, 'sub'),
    iat: optionalNumericDate(claims, 'iat'),
    exp: optionalNumericDate(claims, 'exp'),
    // Only written out when present: a token without session reads exactly as before.
    ...sessionOf(claims)
  }
}
