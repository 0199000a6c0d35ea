import type { JWT } from '@fastify/jwt'
import type { FastifyBaseLogger } from 'fastify'
import { claimsOfArgument, readClaims } from './claims.js'
import { asStoreError, errorMessage, withDeadline } from './deadline.js'
import { InvalidArgumentError, InvalidTokenError, UnsupportedSetupError } from './errors.js'
import { claimsObject } from './payload.js'
import { usesSecretFunction } from './secret-function.js'
import type { RevocationStats } from './stats.js'
import type { RevocationClaims, RevocationStore } from './stores/store.js'
import { cutoffProblem, subjectCutoff, tokenTtl, type TtlSettings } from './ttl.js'

/**
 * A token string, or the payload of a verified token (e.g. request.user after authenticate). A payload must have a
 * `sub` key: the subject, or null/undefined written out for a token without one (FST_JWT_REVOKE_INVALID_ARGUMENT else).
 */
export type TokenOrPayload = string | Record<string, unknown>

export interface RevokeSubjectOptions {
  /**
   * Revoke the subject's tokens issued at or before this instant (Unix seconds or a Date, at most clockSkew ahead);
   * default now, and then revokeSubject resolves once this second is over, so a login right after it is accepted.
   */
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

export interface RevokeSettings extends TtlSettings {
  store: RevocationStore
  storeTimeout: number
  log: FastifyBaseLogger
  stats: RevocationStats
}

const PAYLOAD_ONLY = { complete: false }

// Expiry is tokenTtl's to judge: a token just past exp may still be accepted somewhere, and its revocation must be kept.
const IGNORE_EXPIRATION = { ignoreExpiration: true }

/** What verifyString answers for a token that verified but that its verifier refuses for good (past maxAge). */
const EXPIRED = Symbol('expired')

/**
 * The `before` of a revokeSubject or revokeSession, in Unix seconds; a bad one is the application's mistake (FST_JWT_REVOKE_INVALID_ARGUMENT).
 */
function cutoffInstant (operation: string, before: number | Date | undefined, clockSkew: number): number | undefined {
  if (before === undefined) return undefined
  const seconds = before instanceof Date ? before.getTime() / 1000 : before
  const problem = typeof seconds === 'number' ? cutoffProblem(seconds, clockSkew) : 'must be a Date or Unix seconds'
  if (problem !== undefined) throw new InvalidArgumentError(operation, `"before" ${problem}`)
  return seconds
}

/**
 * Resolves once the clock has left the cutoff's second: a token signed from then on has a whole-second iat past the
 * cutoff and is accepted, while one signed before revokeSubject was called has an iat at or before it and is refused.
 * (Issuers stamp iat in whole seconds: fast-jwt rounds down.) A cutoff further ahead than that second was asked for
 * (a `before` within clockSkew in the future): tokens signed until then are refused by the app's own choice.
 */
async function pastCutoffSecond (cutoff: number): Promise<void> {
  const end = (Math.floor(cutoff) + 1) * 1000
  if (end - Date.now() > 1000) return
  while (Date.now() < end) await new Promise((resolve) => setTimeout(resolve, end - Date.now()))
}

/**
 * Verifies a token string with every @fastify/jwt registration whose key is static (app.jwt and each namespace), in
 * the order they were registered: the first whose key and options accept it signed it. Expiry is left to tokenTtl (a
 * token just past exp may still be accepted within clockTolerance or by a verifier whose clock runs behind, and its
 * revocation must be written). Answers its claims, EXPIRED, or throws FST_JWT_REVOKE_INVALID_TOKEN.
 */
function verifierOf (jwts: readonly JWT[]): (token: string) => unknown {
  // Asked once per registration; `jwts` grows when a namespace registered after the plugin is found at onReady.
  const staticKey = new WeakMap<JWT, boolean>()
  const isStatic = (jwt: JWT): boolean => staticKey.get(jwt) ?? staticKey.set(jwt, !usesSecretFunction(jwt)).get(jwt) as boolean
  return (token) => {
    const staticKeyed = jwts.filter(isStatic)
    if (staticKeyed.length === 0) {
      throw new InvalidTokenError('@fastify/jwt takes its key from a secret function, which needs the request: pass the verified payload (request.user) or call request.revokeToken()')
    }
    const errors: unknown[] = []
    for (const jwt of staticKeyed) {
      try {
        return claimsObject(jwt.verify(token, IGNORE_EXPIRATION))
      } catch (error) {
        // fast-jwt checks the signature first: a token past the registration's maxAge is one of ours, refused for good.
        if ((error as { code?: unknown }).code === 'FAST_JWT_EXPIRED') return EXPIRED
        errors.push(error)
      }
    }
    throw new InvalidTokenError(errorMessage(errors[0]))
  }
}

/** The store's revokeSession: a store written before sessions existed lacks it, which is the app's setup to fix. */
function sessionWriter (store: RevocationStore): NonNullable<RevocationStore['revokeSession']> {
  if (store.revokeSession === undefined) throw new UnsupportedSetupError('the revocation store has no revokeSession(), so it cannot revoke sessions')
  return store.revokeSession.bind(store)
}

/** The API, and revokeVerified for request.revokeToken(): the claims of a client's verified token (their faults are 401s). */
export function revocationApi (jwts: readonly JWT[], settings: RevokeSettings): RevocationApi & { revokeVerified (payload: unknown): Promise<void> } {
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

  async function revokeClaims (claims: RevocationClaims): Promise<void> {
    const ttl = tokenTtl(claims, settings)
    if (ttl <= 0) return
    await write('revoke', () => store.revoke({ jti: claims.jti as string, sub: claims.sub }, ttl))
  }

  async function revoke (token: TokenOrPayload): Promise<void> {
    // Only a token this app signed may enter the deny-list: nobody can fill it with forged ids.
    if (typeof token === 'string') {
      const payload = verifyString(token)
      return payload === EXPIRED ? undefined : await revokeClaims(readClaims(payload, true))
    }
    const claims = claimsOfArgument('revoke', token, true)
    if (claims.exp === undefined && settings.maxTokenLifetime === undefined) {
      throw new InvalidArgumentError('revoke', 'the payload has no "exp" and maxTokenLifetime is not set, so its revocation could never expire')
    }
    await revokeClaims(claims)
  }

  async function revokeVerified (payload: unknown): Promise<void> {
    await revokeClaims(readClaims(claimsObject(payload), true))
  }

  /**
   * A subject's or a session's cutoff: same instant, same lifetime (the longest a token issued before it may live), and
   * the same wait until the clock has left the cutoff's second, so a login right after it resolves is accepted.
   */
  async function writeCutoff (operation: string, idName: string, id: string, options: RevokeSubjectOptions,
    put: (cutoff: number, ttl: number) => Promise<void>): Promise<number> {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(operation, `the ${idName} must be a non-empty string`)
    const { cutoff, ttl } = subjectCutoff(cutoffInstant(operation, options.before, settings.clockSkew), settings)
    if (ttl <= 0) return cutoff
    await Promise.all([write(operation, () => put(cutoff, ttl)), pastCutoffSecond(cutoff)])
    return cutoff
  }

  async function revokeSubject (sub: string, options: RevokeSubjectOptions = {}): Promise<number> {
    return await writeCutoff('revokeSubject', 'subject', sub, options, (cutoff, ttl) => store.revokeSubject(sub, cutoff, ttl))
  }

  async function revokeSession (sid: string, options: RevokeSessionOptions = {}): Promise<number> {
    const put = sessionWriter(store)
    return await writeCutoff('revokeSession', 'session id', sid, options, (cutoff, ttl) => put(sid, cutoff, ttl))
  }

  async function isRevoked (token: TokenOrPayload): Promise<boolean> {
    // Reading the deny-list changes nothing, so a token string is only decoded: an expired one may be asked about too.
    let claims: RevocationClaims
    if (typeof token === 'string') {
      let payload: unknown
      try {
        // Decoding needs no key: any registration's decoder reads any token's payload.
        payload = (jwts[0] as JWT).decode(token, PAYLOAD_ONLY)
      } catch (error) {
        throw new InvalidTokenError(errorMessage(error))
      }
      claims = readClaims(payload, false)
    } else {
      claims = claimsOfArgument('isRevoked', token, false)
    }
    if (claims.jti === undefined && claims.sub === undefined && claims.sid === undefined) return false
    try {
      return await withDeadline(Promise.resolve(store.isRevoked(claims)), storeTimeout)
    } catch (error) {
      throw asStoreError(error)
    }
  }

  return { revoke, revokeSubject, revokeSession, isRevoked, revokeVerified }
}
