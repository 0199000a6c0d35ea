import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { checkPayload, kChecked, type CheckedRequest, type CheckPolicy } from './check.js'
import type { TokenPayload } from './claims.js'
import { describe } from './deadline.js'
import { InvalidTokenError } from './errors.js'

/**
 * @fastify/jwt turns the usual verification failures into 401s, but passes some of fast-jwt's errors on without a
 * status (a disallowed algorithm, a signature with non-base64url characters, nbf in the future, a claim of the wrong
 * type, a payload that is not an object), and Fastify would answer those with a 500. They are the client's fault: 401.
 */
function asClientError (error: unknown): unknown {
  const { code, statusCode } = error as { code?: unknown, statusCode?: unknown }
  if (statusCode !== undefined || typeof code !== 'string' || !code.startsWith('FAST_JWT_')) return error
  return new InvalidTokenError(describe(error))
}

export interface Authentication {
  /** The onRequest handler behind app.authenticate. */
  authenticate (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void
  /** The request's verified, non-revoked payload (behind request.revokeToken). */
  payloadOf (request: FastifyRequest): Promise<TokenPayload>
}

/** authenticate and its helpers: they reuse what the hook found, and fall back to @fastify/jwt where it found nothing. */
export function authentication (policy: CheckPolicy, userProperty: string): Authentication {
  // The hook did not pass a token here: let @fastify/jwt find, verify and explain, then check what it found.
  async function verifyAndCheck (request: FastifyRequest): Promise<TokenPayload> {
    const payload = await request.jwtVerify<TokenPayload>().catch((error: unknown) => { throw asClientError(error) })
    await checkPayload(policy, request, payload)
    return payload
  }

  function setUser (request: FastifyRequest, payload: TokenPayload): void {
    (request as unknown as Record<string, unknown>)[userProperty] = payload
  }

  // Callback-style, and synchronous when the hook already passed the token: on the hot path it costs no promise.
  function authenticate (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const checked = (request as CheckedRequest)[kChecked]
    if (checked instanceof Error) return done(checked)
    if (checked !== null) {
      setUser(request, checked)
      return done()
    }
    verifyAndCheck(request).then((payload) => {
      setUser(request, payload)
      done()
    }, done)
  }

  async function payloadOf (request: FastifyRequest): Promise<TokenPayload> {
    const checked = (request as CheckedRequest)[kChecked]
    if (checked instanceof Error) throw checked
    return checked ?? await verifyAndCheck(request)
  }

  return { authenticate, payloadOf }
}
