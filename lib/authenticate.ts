import type { JWT } from '@fastify/jwt'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { kChecked, type Check, type CheckedRequest } from './check.js'
import type { RevocableClaims } from './claims.js'
import { describe } from './deadline.js'
import { InvalidTokenError, NoVerifierError } from './errors.js'
import { claimsObject } from './payload.js'
import { tokenFinder } from './token.js'
import type { RequestVerify } from './verifiers.js'

/**
 * @fastify/jwt turns the usual verification failures into 401s, but passes some of fast-jwt's errors on without a
 * status (a disallowed algorithm, a signature with non-base64url characters, nbf in the future, a claim of the wrong
 * type, a payload that is not an object), and Fastify would answer those with a 500. They are the client's fault: 401.
 */
function asClientError (error: Error): Error {
  const { code, statusCode } = error as { code?: unknown, statusCode?: unknown }
  if (statusCode !== undefined || typeof code !== 'string' || !code.startsWith('FAST_JWT_')) return error
  return new InvalidTokenError(describe(error))
}

/** The registration without a namespace: what authenticate and revokeToken verify with. */
export interface DefaultVerifier {
  jwt: JWT
  /** Its request.jwtVerify, guarded. */
  verify: RequestVerify
  /** @fastify/jwt's decoratorName (request.user by default). */
  userProperty: string
  /** Whether its key is static, so that app.jwt.verify can verify without the request. */
  staticKey: boolean
}

export interface Authentication {
  /** The onRequest handler behind app.authenticate. */
  authenticate (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void
  /** The claims of the token this request last verified and the check passed (behind request.revokeToken). */
  claimsOf (request: FastifyRequest): Promise<RevocableClaims>
  /** Sets the registration without a namespace, once it is known. */
  use (verifier: DefaultVerifier): void
}

type Handler = Authentication['authenticate']

function viaRequestVerify (verify: RequestVerify, request: FastifyRequest, done: HookHandlerDoneFunction): void {
  // No options and a callback: @fastify/jwt then uses its global verifier, and no promise is made.
  verify.call(request, undefined, (error) => { error == null ? done() : done(asClientError(error)) })
}

/**
 * authenticate's fast path, for a static key: it verifies the request's token with app.jwt.verify (the same key and
 * verify options as request.jwtVerify, without its per-request option merging and second decoding) and checks it, all
 * synchronously when the store answers synchronously. request.jwtVerify (guarded) handles everything else: no token
 * or one that fails (for @fastify/jwt's own error codes).
 */
function fastPath ({ jwt, verify, userProperty }: DefaultVerifier, check: Check): Handler {
  const findToken = tokenFinder(jwt)
  return function authenticate (request, _reply, done) {
    const token = findToken(request)
    let verified: unknown
    try {
      verified = token === undefined ? undefined : jwt.verify(token)
    } catch {}
    if (verified === undefined) return viaRequestVerify(verify, request, done)
    check(request, claimsObject(verified), (error) => {
      if (error !== undefined) return done(error)
      ;(request as unknown as Record<string, unknown>)[userProperty] = verified
      done()
    })
  }
}

/** authenticate and revokeToken, on the registration without a namespace (until there is one, they say so). */
export function authentication (check: Check): Authentication {
  let verifier: DefaultVerifier | undefined
  let handler: Handler = (_request, _reply, done) => { done(new NoVerifierError('app.authenticate')) }

  function use (found: DefaultVerifier): void {
    verifier = found
    // A secret function needs the request: request.jwtVerify.
    handler = found.staticKey ? fastPath(found, check) : (request, _reply, done) => { viaRequestVerify(found.verify, request, done) }
  }

  async function claimsOf (request: FastifyRequest): Promise<RevocableClaims> {
    const checked = (request as CheckedRequest)[kChecked]
    if (checked != null) return checked
    if (verifier === undefined) throw new NoVerifierError('request.revokeToken()')
    await (verifier.verify.call(request) as Promise<unknown>).catch((error: Error) => { throw asClientError(error) })
    return (request as CheckedRequest)[kChecked] as RevocableClaims
  }

  return { authenticate: (request, reply, done) => { handler(request, reply, done) }, claimsOf, use }
}
