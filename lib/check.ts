import type { FastifyRequest } from 'fastify'
import { readClaims } from './claims.js'
import { asStoreError, withDeadline } from './deadline.js'
import { RevokedError } from './errors.js'
import type { BurstLog, RevocationStats } from './stats.js'
import type { RevocationClaims, RevocationStore } from './stores/store.js'
import { assertStillRevocable } from './ttl.js'

/** What the check needs to decide: the store, the policy for when it fails, and where it reports. */
export interface CheckPolicy {
  store: RevocationStore
  onStoreError: 'deny' | 'allow'
  storeTimeout: number
  requireJti: boolean
  maxTokenLifetime: number | undefined
  /** Seconds past exp a verifier of the app may accept a token (lib/tolerance.ts). */
  acceptedPastExp: () => number
  stats: RevocationStats
  failures: BurstLog
}

/** Set on the request by the check: the claims of the last token that passed it (what request.revokeToken() revokes). */
export const kChecked = Symbol('fastify-jwt-revoke.checked')

export type CheckedRequest = FastifyRequest & { [kChecked]: RevocationClaims | null | undefined }

/** Called once the check decided: no error means the token passed. */
export type CheckDone = (error?: Error) => void

/** The revocation check of a token that has just been verified: the request, its signed payload, and the verdict. */
export type Check = (request: FastifyRequest, payload: unknown, done: CheckDone) => void

function storeFailed (policy: CheckPolicy, error: unknown, request: FastifyRequest): false {
  const storeError = asStoreError(error)
  const allow = policy.onStoreError === 'allow'
  policy.stats.storeErrors++
  policy.failures.failure(request.log, storeError, { url: request.url, method: request.method },
    allow
      ? 'jwt-revoke: the revocation store failed; letting the request through (onStoreError: allow)'
      : 'jwt-revoke: the revocation store failed; answering 503 (onStoreError: deny)')
  if (!allow) throw storeError
  policy.stats.failOpenPasses++
  return false
}

/**
 * True when the token must be refused. Answers synchronously when the store does. A store that fails or misses the
 * deadline is logged, then throws FST_JWT_REVOKE_STORE_UNAVAILABLE under 'deny', or lets the token pass under 'allow'.
 */
export function isRefused (policy: CheckPolicy, claims: RevocationClaims, request: FastifyRequest): boolean | Promise<boolean> {
  // Nothing to look up: a token with neither id, subject nor session can only pass (requireJti refuses it before this).
  if (claims.jti === undefined && claims.sub === undefined && claims.sid === undefined) return false
  policy.stats.checks++
  let answer: boolean | Promise<boolean>
  try {
    answer = policy.store.isRevoked(claims)
  } catch (error) {
    return storeFailed(policy, error, request)
  }
  if (typeof answer === 'boolean') return answer
  return withDeadline(answer, policy.storeTimeout).catch((error: unknown) => storeFailed(policy, error, request))
}

/** The claims of a verified payload, type-checked, of a token its revocation can still speak for (lib/ttl.ts). */
function claimsToCheck (policy: CheckPolicy, payload: unknown): RevocationClaims {
  const claims = readClaims(payload, policy.requireJti)
  assertStillRevocable(claims, policy)
  return claims
}

function settle (policy: CheckPolicy, request: CheckedRequest, claims: RevocationClaims, refused: boolean, done: CheckDone): void {
  if (refused) {
    policy.stats.refusals++
    return done(new RevokedError())
  }
  request[kChecked] = claims
  done()
}

/**
 * The check of a payload @fastify/jwt has verified: its claims, then one store call. Every verification asks again,
 * also a second one of the same token on the same request (a WebSocket handler verifying each message must see a
 * revocation made since); a store may batch the calls of one event-loop turn. Callback-style, and synchronous when
 * the store answers synchronously: on the hot path it costs no promise.
 */
export function checkVerified (policy: CheckPolicy, request: FastifyRequest, payload: unknown, done: CheckDone): void {
  let claims: RevocationClaims
  let answer: boolean | Promise<boolean>
  try {
    claims = claimsToCheck(policy, payload)
    answer = isRefused(policy, claims, request)
  } catch (error) {
    return done(error as Error)
  }
  if (typeof answer === 'boolean') return settle(policy, request as CheckedRequest, claims, answer, done)
  answer.then((refused) => settle(policy, request as CheckedRequest, claims, refused, done), done)
}

/** checkVerified as a promise: rejects with the refusal. */
export function checkPayload (policy: CheckPolicy, request: FastifyRequest, payload: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    checkVerified(policy, request, payload, (error) => { error === undefined ? resolve() : reject(error) })
  })
}
