import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { readClaims, type RevocableClaims, type TokenPayload } from './claims.js'
import { asStoreError, withDeadline } from './deadline.js'
import { isOwnError, RevokedError } from './errors.js'
import type { BurstLog, RevocationStats } from './stats.js'
import type { RevocationStore } from './stores/store.js'

/** What the check needs to decide: the store, the policy for when it fails, and where it reports. */
export interface CheckPolicy {
  store: RevocationStore
  onStoreError: 'deny' | 'allow'
  storeTimeout: number
  requireJti: boolean
  stats: RevocationStats
  failures: BurstLog
}

/** Set on the request by the check: the verified payload that passed it, or the claim error that stopped it. */
export const kChecked = Symbol('fastify-jwt-revoke.checked')

export type CheckedRequest = FastifyRequest & { [kChecked]: TokenPayload | Error | null }

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
export function isRefused (policy: CheckPolicy, claims: RevocableClaims, request: FastifyRequest): boolean | Promise<boolean> {
  // Nothing to look up: a token with neither id nor subject can only pass (requireJti refuses it before this).
  if (claims.jti === undefined && claims.sub === undefined) return false
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

type FindToken = (request: FastifyRequest) => string | undefined

/**
 * The onRequest hook. A request without a token, or with one that does not verify (expired, forged), passes untouched:
 * the route's own authentication decides about it. A verified token costs one store call; revoked means 401.
 * `verify` is synchronous: `app.jwt.verify` with a static secret or key pair.
 */
export function revocationHook (policy: CheckPolicy, findToken: FindToken, verify: (token: string) => unknown) {
  return function checkRevocation (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const token = findToken(request)
    if (token === undefined) return done()
    let payload: TokenPayload
    try {
      payload = verify(token) as TokenPayload
    } catch {
      return done()
    }
    checkVerified(policy, request as CheckedRequest, payload, done)
  }
}

/**
 * The same hook for @fastify/jwt with a secret function (JWKS), which needs the request to pick its key: it verifies
 * through `request.jwtVerify()`.
 */
export function requestVerifyingHook (policy: CheckPolicy, findToken: FindToken) {
  return function checkRevocation (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (findToken(request) === undefined) return done()
    request.jwtVerify().then((payload) => {
      // `trusted` may already have checked it inside request.jwtVerify(): one store call per request is enough.
      if (passedCheck(request, payload)) return done()
      checkVerified(policy, request as CheckedRequest, payload as TokenPayload, done)
    }, (error: unknown) => {
      // Our own refusals (through `trusted`) stand; any other failure leaves the token to the route, as above.
      if (isOwnError(error)) done(error)
      else done()
    })
  }
}

function checkVerified (policy: CheckPolicy, request: CheckedRequest, payload: TokenPayload, done: HookHandlerDoneFunction): void {
  let claims: RevocableClaims
  try {
    claims = readClaims(payload, policy.requireJti)
  } catch (error) {
    // A verified token with unusable claims: refused by authenticate, ignored by public routes.
    request[kChecked] = error as Error
    return done()
  }
  let answer: boolean | Promise<boolean>
  try {
    answer = isRefused(policy, claims, request)
  } catch (error) {
    return done(error as Error)
  }
  if (typeof answer === 'boolean') return settle(policy, request, payload, answer, done)
  answer.then((refused) => settle(policy, request, payload, refused, done), done)
}

function settle (policy: CheckPolicy, request: CheckedRequest, payload: TokenPayload, refused: boolean, done: HookHandlerDoneFunction): void {
  if (refused) {
    policy.stats.refusals++
    return done(new RevokedError())
  }
  request[kChecked] = payload
  done()
}

/** The full check for a payload the hook has not seen (a route without the hook, a token found by other means). */
export async function checkPayload (policy: CheckPolicy, request: FastifyRequest, payload: unknown): Promise<void> {
  const claims = readClaims(payload, policy.requireJti)
  if (await isRefused(policy, claims, request)) {
    policy.stats.refusals++
    throw new RevokedError()
  }
  ;(request as CheckedRequest)[kChecked] = payload as TokenPayload
}

/** Whether this request's hook already passed a token with the same revocation identity (jti, sub, iat). */
export function passedCheck (request: FastifyRequest, payload: unknown): boolean {
  const checked = (request as CheckedRequest)[kChecked]
  if (checked === null || checked instanceof Error || typeof payload !== 'object' || payload === null) return false
  const other = payload as TokenPayload
  return checked === other || (checked.jti === other.jti && checked.sub === other.sub && checked.iat === other.iat)
}
