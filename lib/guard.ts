import type { JWT } from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import type { Check } from './check.js'
import { decodePayload } from './payload.js'
import { tokenFinder } from './token.js'
import { kGuarded, type RequestVerify, type VerifyCallback } from './verifiers.js'

type UserSlot = Record<string, unknown>

/** The verify options a per-call `options` holds: @fastify/jwt takes `{ decode, verify }` or the flat verify options. */
function verifyOptionsOf (options: object): unknown {
  return 'verify' in options || 'decode' in options ? (options as { verify?: unknown }).verify : options
}

/**
 * Wraps @fastify/jwt's request.jwtVerify (or a namespace's) so that every verification it makes, with any per-call
 * options, is followed by the revocation check before it answers: the check runs where the token is verified, on
 * every route and not-found handler, whichever token the call picked. @fastify/jwt verifies as it always does; the
 * wrapper then finds the same token with the same options (the lookup is deterministic), reads its signed claims and
 * checks them. A refused token leaves request.user as it was before the call.
 */
export function guardVerify (original: RequestVerify, jwt: JWT, userProperty: string, check: Check): RequestVerify {
  const findToken = tokenFinder(jwt)
  // What @fastify/jwt's lookupToken would answer for these options, or undefined.
  const tokenOf = (request: FastifyRequest, options: unknown): string | undefined => {
    if (options == null) return findToken(request)
    try {
      return jwt.lookupToken(request, verifyOptionsOf(options as object) as Parameters<JWT['lookupToken']>[1])
    } catch {
      return undefined
    }
  }

  function verifyAndCheck (this: FastifyRequest, options?: unknown, next?: VerifyCallback): Promise<unknown> | undefined {
    // request.jwtVerify(callback): the same as no options (and, unlike @fastify/jwt's own, keeps its global verifier).
    if (typeof options === 'function') return verifyAndCheck.call(this, undefined, options as VerifyCallback)
    if (next === undefined) {
      return new Promise((resolve, reject) => {
        verifyAndCheck.call(this, options, (error, user) => { error == null ? resolve(user) : reject(error) })
      })
    }
    const request = this
    const slot = request as unknown as UserSlot
    const before = slot[userProperty]
    original.call(request, options, (error, user) => {
      if (error != null) return next(error)
      const token = tokenOf(request, options)
      check(request, token === undefined ? undefined : decodePayload(token), (refusal) => {
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
