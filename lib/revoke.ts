import type { JWT } from '@fastify/jwt'
import type { FastifyBaseLogger } from 'fastify'
import { readClaims } from './claims.js'
import { asStoreError, describe, withDeadline } from './deadline.js'
import { InvalidClaimError, InvalidTokenError, UnsupportedSetupError } from './errors.js'
import { claimsObject } from './payload.js'
import { keyFromFunction } from './secret-function.js'
import type { RevocationStats } from './stats.js'
import type { RevocationStore } from './stores/store.js'
import { nowSeconds, subjectCutoff, tokenTtl } from './ttl.js'

/** A token string, or a payload that was already verified (e.g. request.user after authenticate). */
export type TokenOrPayload = string | Record<string, unknown>

export interface RevokeSubjectOptions {
  /** Revoke the subject's tokens issued at or before this instant (Unix seconds or a Date); default now. */
  before?: number | Date
}

/** Options of revokeSession: the same as revokeSubject's. */
export type RevokeSessionOptions = RevokeSubjectOptions

export interface RevocationApi {
  revoke (token: TokenOrPayload): Promise<void>
  revokeSubject (sub: string, options?: RevokeSubjectOptions): Promise<number>
  revokeSession (sid: string, options?: RevokeSessionOptions): Promise<number>
  isRevoked (token: TokenOrPayload): Promise<boolean>
}

export interface RevokeSettings {
  store: RevocationStore
  storeTimeout: number
  clockSkew: number
  maxTokenLifetime: number | undefined
  cutoffLifetime: number
  log: FastifyBaseLogger
  stats: RevocationStats
}

const PAYLOAD_ONLY = { complete: false }

/** What verifyString answers for a token that verified but has expired. */
const EXPIRED = Symbol('expired')

// Unix seconds past this are evidently milliseconds (it is the year 5138).
const MILLISECONDS = 1e11

/**
 * The `before` of a revokeSubject, in Unix seconds. A cutoff in the future refuses every token issued until then,
 * new logins included: more than clockSkew ahead of this server's clock is a mistake (often milliseconds), not a wish.
 */
function cutoffInstant (before: number | Date | undefined, clockSkew: number): number | undefined {
  const seconds = before instanceof Date ? before.getTime() / 1000 : before
  if (seconds === undefined) return undefined
  if (!Number.isFinite(seconds)) throw new InvalidClaimError('before', 'it must be a Date or Unix seconds')
  if (seconds > MILLISECONDS) throw new InvalidClaimError('before', `${seconds} looks like milliseconds; pass Unix seconds or a Date`)
  if (seconds > nowSeconds() + clockSkew) throw new InvalidClaimError('before', `it is more than clockSkew (${clockSkew} s) in the future, which would refuse every new login of the subject until then`)
  return seconds
}

/**
 * Verifies a token string with every @fastify/jwt registration whose key is static (app.jwt and each namespace), in
 * the order they were registered: the first whose key and options accept it signed it. Answers its claims, EXPIRED
 * when a registration's key verified it but it has expired, or throws FST_JWT_REVOKE_INVALID_TOKEN.
 */
function verifierOf (jwts: readonly JWT[]): (token: string) => unknown {
  // Asked once per registration; `jwts` grows when a namespace registered after the plugin is found at onReady.
  const staticKey = new WeakMap<JWT, boolean>()
  const isStatic = (jwt: JWT): boolean => staticKey.get(jwt) ?? staticKey.set(jwt, !keyFromFunction(jwt)).get(jwt) as boolean
  return (token) => {
    const staticKeyed = jwts.filter(isStatic)
    if (staticKeyed.length === 0) {
      throw new InvalidTokenError('@fastify/jwt takes its key from a secret function, which needs the request: pass the verified payload (request.user) or call request.revokeToken()')
    }
    const errors: unknown[] = []
    for (const jwt of staticKeyed) {
      try {
        return claimsObject(jwt.verify(token))
      } catch (error) {
        // fast-jwt checks the signature before exp: an expired token is one of ours.
        if ((error as { code?: unknown }).code === 'FAST_JWT_EXPIRED') return EXPIRED
        errors.push(error)
      }
    }
    throw new InvalidTokenError(describe(errors[0]))
  }
}

/** The store's revokeSession: a store written before sessions existed lacks it, which is the app's setup to fix. */
function sessionWriter (store: RevocationStore): NonNullable<RevocationStore['revokeSession']> {
  if (store.revokeSession === undefined) throw new UnsupportedSetupError('the revocation store has no revokeSession(), so it cannot revoke sessions')
  return store.revokeSession.bind(store)
}

export function revocationApi (jwts: readonly JWT[], settings: RevokeSettings): RevocationApi {
  const { store, storeTimeout, log, stats } = settings
  const verifyString = verifierOf(jwts)

  async function write (operation: string, call: () => Promise<void>): Promise<void> {
    try {
      await withDeadline(call(), storeTimeout)
      stats.revocations++
    } catch (error) {
      const storeError = asStoreError(error)
      log.error({ err: storeError }, `jwt-revoke: ${operation} failed in the revocation store`)
      throw storeError
    }
  }

  async function revoke (token: TokenOrPayload): Promise<void> {
    // Only a token this app signed may enter the deny-list: nobody can fill it with forged ids.
    const payload = typeof token === 'string' ? verifyString(token) : claimsObject(token)
    if (payload === EXPIRED) return
    const claims = readClaims(payload, true)
    const ttl = tokenTtl(claims, settings)
    if (ttl <= 0) return
    await write('revoke', () => store.revoke({ jti: claims.jti as string, sub: claims.sub }, ttl))
  }

  /** A subject's or a session's cutoff: same instant, same lifetime (the longest a token issued before it may live). */
  async function writeCutoff (operation: string, claim: string, id: string, options: RevokeSubjectOptions,
    put: (cutoff: number, ttl: number) => Promise<void>): Promise<number> {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidClaimError(claim, 'it must be a non-empty string')
    const { cutoff, ttl } = subjectCutoff(cutoffInstant(options.before, settings.clockSkew), settings)
    if (ttl <= 0) return cutoff
    await write(operation, () => put(cutoff, ttl))
    return cutoff
  }

  async function revokeSubject (sub: string, options: RevokeSubjectOptions = {}): Promise<number> {
    return await writeCutoff('revokeSubject', 'sub', sub, options, (cutoff, ttl) => store.revokeSubject(sub, cutoff, ttl))
  }

  async function revokeSession (sid: string, options: RevokeSessionOptions = {}): Promise<number> {
    const put = sessionWriter(store)
    return await writeCutoff('revokeSession', 'sid', sid, options, (cutoff, ttl) => put(sid, cutoff, ttl))
  }

  async function isRevoked (token: TokenOrPayload): Promise<boolean> {
    // Reading the deny-list changes nothing, so the token is only decoded: an expired one may be asked about too.
    let payload: unknown
    try {
      // Decoding needs no key: any registration's decoder reads any token's payload.
      payload = typeof token === 'string' ? (jwts[0] as JWT).decode(token, PAYLOAD_ONLY) : claimsObject(token)
    } catch (error) {
      throw new InvalidTokenError(describe(error))
    }
    const claims = readClaims(payload, false)
    if (claims.jti === undefined && claims.sub === undefined && claims.sid === undefined) return false
    try {
      return await withDeadline(Promise.resolve(store.isRevoked(claims)), storeTimeout)
    } catch (error) {
      throw asStoreError(error)
    }
  }

  return { revoke, revokeSubject, revokeSession, isRevoked }
}
