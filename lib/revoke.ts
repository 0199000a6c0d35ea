import type { JWT } from '@fastify/jwt'
import type { FastifyBaseLogger } from 'fastify'
import { readClaims } from './claims.js'
import { asStoreError, describe, withDeadline } from './deadline.js'
import { InvalidClaimError, InvalidTokenError } from './errors.js'
import type { RevocationStats } from './stats.js'
import type { RevocationStore } from './stores/store.js'
import { subjectCutoff, tokenTtl } from './ttl.js'

/** A token string, or a payload that was already verified (e.g. request.user after authenticate). */
export type TokenOrPayload = string | Record<string, unknown>

export interface RevokeSubjectOptions {
  /** Revoke the subject's tokens issued at or before this instant (Unix seconds or a Date); default now. */
  before?: number | Date
}

export interface RevocationApi {
  revoke (token: TokenOrPayload): Promise<void>
  revokeSubject (sub: string, options?: RevokeSubjectOptions): Promise<number>
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
  /** @fastify/jwt takes its key from a secret function: a token string cannot be verified without its request. */
  keyFromFunction: boolean
}

const PAYLOAD_ONLY = { complete: false }

/** What payloadOf answers for a token that verified but has expired. */
const EXPIRED = Symbol('expired')

/** The payload of a token string as `read` (verify or decode) gives it, or the payload object itself. */
function payloadOf (token: TokenOrPayload, read: (token: string) => unknown): unknown {
  if (typeof token !== 'string') return token
  try {
    return read(token)
  } catch (error) {
    if ((error as { code?: unknown }).code === 'FAST_JWT_EXPIRED') return EXPIRED
    throw new InvalidTokenError(describe(error))
  }
}

export function revocationApi (jwt: JWT, settings: RevokeSettings): RevocationApi {
  const { store, storeTimeout, log, stats } = settings

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
    if (typeof token === 'string' && settings.keyFromFunction) {
      throw new InvalidTokenError('@fastify/jwt takes its key from a secret function, which needs the request: pass the verified payload (request.user) or call request.revokeToken()')
    }
    const payload = payloadOf(token, (text) => jwt.verify(text))
    if (payload === EXPIRED) return
    const claims = readClaims(payload, true)
    const ttl = tokenTtl(claims, settings)
    if (ttl <= 0) return
    await write('revoke', () => store.revoke({ jti: claims.jti as string, sub: claims.sub }, ttl))
  }

  async function revokeSubject (sub: string, options: RevokeSubjectOptions = {}): Promise<number> {
    if (typeof sub !== 'string' || sub.length === 0) throw new InvalidClaimError('sub', 'it must be a non-empty string')
    const before = options.before instanceof Date ? options.before.getTime() / 1000 : options.before
    if (before !== undefined && !Number.isFinite(before)) throw new InvalidClaimError('before', 'it must be a Date or Unix seconds')
    const { cutoff, ttl } = subjectCutoff(before, settings)
    if (ttl <= 0) return cutoff
    await write('revokeSubject', () => store.revokeSubject(sub, cutoff, ttl))
    return cutoff
  }

  async function isRevoked (token: TokenOrPayload): Promise<boolean> {
    // Reading the deny-list changes nothing, so the token is only decoded: an expired one may be asked about too. The
    // payload alone, even when the app decodes complete tokens (as JWKS secret functions need).
    const claims = readClaims(payloadOf(token, (text) => jwt.decode(text, PAYLOAD_ONLY)), false)
    if (claims.jti === undefined && claims.sub === undefined) return false
    try {
      return await withDeadline(Promise.resolve(store.isRevoked(claims)), storeTimeout)
    } catch (error) {
      throw asStoreError(error)
    }
  }

  return { revoke, revokeSubject, isRevoked }
}
