import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { kChecked, type CheckedRequest } from './check.js'
import type { RevocationClaims } from './stores/store.js'
import { errorMessage } from './deadline.js'
import { InvalidTokenError, NoVerifierError } from './errors.js'
import type { RequestVerify } from './verifiers.js'

/**
 * @fastify/jwt turns the usual verification failures into 401s, but passes some of fast-jwt's errors on without a
 * status (a disallowed algorithm, a signature with non-base64url characters, nbf in the future, a claim of the wrong
 * type, a payload that is not an object), and Fastify would answer those with a 500. They are the client's fault: 401.
 */
function asClientError (error: Error): Error {
  const { code, statusCode } = error as { code?: unknown, statusCode?: unknown }
  if (statusCode !== undefined || typeof code !== 'string' || !code.startsWith('FAST_JWT_')) return error
  return new InvalidTokenError(errorMessage(error))
}

export interface Authentication {
  /** The onRequest handler behind app.authenticate. */
  authenticate (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void
  /** The claims of the token this request last verified and the check passed (behind request.revokeToken). */
  claimsOf (request: FastifyRequest): Promise<RevocationClaims>
  /** Sets the guarded request.jwtVerify of the registration without a namespace, once it is known. */
  setDefaultVerifier (verify: RequestVerify): void
}

/**
 * authenticate and revokeToken, on the registration without a namespace (until there is one, they say so).
 * authenticate is request.jwtVerify() (guarded) and nothing else: the app's trusted, formatUser, decoratorName,
 * secret function and verify options apply as they do on every verification, one signature check per request (a
 * forged token included), then the revocation check.
 */
export function authentication (): Authentication {
  let verify: RequestVerify | undefined

  function authenticate (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (verify === undefined) return done(new NoVerifierError('app.authenticate'))
    // No options and a callback: @fastify/jwt then uses its global verifier, and no promise is made.
    verify.call(request, undefined, (error) => { error == null ? done() : done(asClientError(error)) })
  }

  async function claimsOf (request: FastifyRequest): Promise<RevocationClaims> {
    const checked = (request as CheckedRequest)[kChecked]
    if (checked != null) return checked
    if (verify === undefined) throw new NoVerifierError('request.revokeToken()')
    await (verify.call(request) as Promise<unknown>).catch((error: Error) => { throw asClientError(error) })
    return (request as CheckedRequest)[kChecked] as RevocationClaims
  }

  return { authenticate, claimsOf, setDefaultVerifier: (found) => { verify = found } }
}
