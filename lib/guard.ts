import type { JWT } from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import type { Check } from './check.js'
import { payloadCache } from './payload-cache.js'
import { kGuarded, type RequestVerify, type VerifyCallback } from './verifiers.js'

type UserSlot = Record<string, unknown>
type LookupOptions = Parameters<JWT['lookupToken']>[1]
type ExtractToken = (request: FastifyRequest) => string

/** Payloads of verified tokens kept per registration (a few hundred KB at most). */
const PAYLOADS_KEPT = 1024

/** Whether @fastify/jwt reads per-call options in its nested form (`{ decode, verify }`) rather than the flat one. */
function isNested (options: object): boolean {
  return Object.hasOwn(options, 'decode') || Object.hasOwn(options, 'verify')
}

/**
 * The per-call options with the lookup handed to @fastify/jwt as its `extractToken`, where it reads that option (the
 * flat options, or `verify` of the nested ones). Every other option is the caller's, as the caller gave it.
 */
function withLookup (options: object, lookup: (lookupOptions: LookupOptions) => ExtractToken): object {
  if (!isNested(options)) return { ...options, extractToken: lookup(options as LookupOptions) }
  const verify = (options as { verify?: object }).verify
  return { ...options, verify: { ...verify, extractToken: lookup(verify as LookupOptions) } }
}

/**
 * Wraps @fastify/jwt's request.jwtVerify (or a namespace's) so that every verification it makes, with any per-call
 * options, is followed by the revocation check of the very token it verified, before it answers: the check runs on
 * every route, child context and not-found handler, whether the route was declared before or after the plugin.
 *
 * Where the check gets the token, and why there (read against @fastify/jwt 9.0.0 jwt.js and 10.2.8 index.js,
 * `requestVerify` and `lookupToken`):
 * - @fastify/jwt's `trusted` and `formatUser` would be the natural places, but it reads both from its options once,
 *   when it registers (before this plugin, which depends on it), and keeps them in a closure: they can be neither
 *   wrapped nor read afterwards, so the zero-wiring promise rules them out; and its resolved value is formatUser's
 *   result, which may drop the claims the check needs.
 * - Calls with per-call options: the plugin hands @fastify/jwt, as that call's `extractToken`, a function that runs
 *   @fastify/jwt's own public `lookupToken` with the caller's options (so their extractToken, onlyCookie and the
 *   cookie settings apply as they would) and keeps the token it returns. @fastify/jwt then verifies exactly that
 *   token: one lookup, the app's extractToken called once. Per-call options already make @fastify/jwt build a verifier
 *   for the call, so this costs nothing more.
 * - Calls without options: @fastify/jwt verifies with its global verifier, built once. Any per-call option would
 *   make it build a new one for every request (measured: +5 µs with HS256, +250 µs with ES256, where fast-jwt parses
 *   the key again). So the plugin runs the same public `lookupToken` right before, in the same synchronous step:
 *   nothing runs between the two, and without an app `extractToken` the lookup only reads the request's header and
 *   cookie, so @fastify/jwt's own lookup returns the same token. With an app `extractToken` (the app's code, which
 *   must run once) the call takes the path above instead.
 * The check then reads the claims from that token's payload (the signed bytes @fastify/jwt verified), whatever
 * formatUser and `complete` make of the result. A token the plugin cannot read is refused (FST_JWT_REVOKE_INVALID_CLAIM).
 * A refused token leaves request[decoratorName] as it was before the call.
 */
export function guardVerify (original: RequestVerify, jwt: JWT, userProperty: string, check: Check): RequestVerify {
  // An app may register @fastify/jwt with `verify: null`: no app-wide verify options then.
  const globalExtractToken = (jwt.options.verify as { extractToken?: unknown } | null)?.extractToken !== undefined
  const payloadOf = payloadCache(PAYLOADS_KEPT)

  function verifyAndCheck (this: FastifyRequest, options?: unknown, next?: VerifyCallback): Promise<unknown> | undefined {
    // request.jwtVerify(callback): the same as no options (@fastify/jwt's own would build a verifier for the call).
    if (typeof options === 'function') return verifyAndCheck.call(this, undefined, options as VerifyCallback)
    if (next === undefined) {
      return new Promise((resolve, reject) => {
        verifyAndCheck.call(this, options, (error, user) => { error == null ? resolve(user) : reject(error) })
      })
    }
    const request = this
    let token: string | undefined
    let callOptions = options
    // @fastify/jwt takes any falsy options as none.
    if (!options && !globalExtractToken) {
      try {
        token = jwt.lookupToken(request)
      } catch {
        // No token: @fastify/jwt's own lookup fails the same way and answers with its own error.
      }
    } else {
      callOptions = withLookup(Object(options), (lookupOptions) => (lookupRequest) => {
        token = jwt.lookupToken(lookupRequest, lookupOptions)
        return token
      })
    }
    const slot = request as unknown as UserSlot
    const before = slot[userProperty]
    original.call(request, callOptions, (error, user) => {
      if (error != null) return next(error)
      check(request, payloadOf(token), (refusal) => {
        if (refusal === undefined) return next(null, user)
        slot[userProperty] = before
        next(refusal)
      })
    })
    return undefined
  }
  Object.defineProperty(verifyAndCheck, kGuarded, { value: original })
  return verifyAndCheck
}
