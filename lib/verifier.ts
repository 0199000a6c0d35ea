import type { JWT } from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'

/**
 * Verifies the token the hook found, answering the payload (or a promise of it) or throwing. The request is there for
 * @fastify/jwt secret functions, which pick the key per request.
 */
export type Verify = (token: string, request: FastifyRequest) => unknown

export function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/**
 * Whether @fastify/jwt gets its verification key from a `secret` function (JWKS: the key depends on the token's kid,
 * its issuer, the request). Asked of `app.jwt.verify` with a malformed token: fast-jwt throws at once when the key is
 * static, and answers with a rejected promise when the key comes from a function. The function itself is never called:
 * the token fails to decode first.
 */
export function keyFromFunction (jwt: JWT): boolean {
  let answer: unknown
  try {
    answer = jwt.verify('malformed')
  } catch {
    return false
  }
  // The rejection is the answer we asked for, not an error to report.
  Promise.resolve(answer).catch(() => {})
  return isThenable(answer)
}

/**
 * How the check verifies: with a static secret or key pair through `app.jwt.verify`, synchronous, one fast-jwt call and
 * the same secret, algorithms and options as `request.jwtVerify()`. With a secret function, `app.jwt.verify` would call
 * it without the request, so the check goes through `request.jwtVerify()`, which resolves the key the way the app
 * configured it.
 */
export function verifier (jwt: JWT, fromFunction: boolean): Verify {
  if (fromFunction) return async (_token, request) => await request.jwtVerify()
  return (token) => jwt.verify(token)
}
