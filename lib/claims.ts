import { InvalidArgumentError, InvalidClaimError, NoJtiError } from './errors.js'
import { claimsObject } from './payload.js'
import type { RevocationClaims } from './stores/store.js'
import { unixSecondsProblem } from './ttl.js'

/** A verified JWT payload as this package reads it: claims it has not checked yet are unknown. */
export interface TokenPayload {
  jti?: unknown
  sub?: unknown
  sid?: unknown
  iat?: unknown
  exp?: unknown
  [claim: string]: unknown
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
export function readClaims (payload: unknown, requireJti: boolean): RevocationClaims {
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

function kindOf (value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}

/**
 * The claims of a payload object the application's own code passed to revoke() or isRevoked(). It must say its subject
 * ('sub' present; null or undefined for a token without one): the check files a token under its subject, so an object
 * that leaves `sub` out would name another entry than the one the check reads for the token, and a revoke() would
 * resolve while the token still passes. Anything wrong here is the app's mistake: FST_JWT_REVOKE_INVALID_ARGUMENT.
 */
export function claimsOfArgument (operation: string, value: unknown, requireJti: boolean): RevocationClaims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(operation, `pass a token string or its payload object, not ${kindOf(value)}`)
  }
  const payload = claimsObject(value) as TokenPayload
  if (!('sub' in payload)) {
    throw new InvalidArgumentError(operation, 'a payload object must carry "sub", the subject the check files the token under (sub: null for a token without one)')
  }
  let claims: RevocationClaims
  try {
    claims = readClaims({ ...payload, sub: payload.sub ?? undefined }, requireJti)
  } catch (error) {
    throw new InvalidArgumentError(operation, (error as Error).message)
  }
  for (const name of ['iat', 'exp'] as const) {
    const problem = claims[name] === undefined ? undefined : unixSecondsProblem(claims[name])
    if (problem !== undefined) throw new InvalidArgumentError(operation, `"${name}" ${problem}`)
  }
  return claims
}
