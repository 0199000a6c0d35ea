import type { JWT } from '@fastify/jwt'

/**
 * Whether @fastify/jwt gets its verification key from a `secret` function (JWKS: the key depends on the token's kid,
 * its issuer, the request). The check then cannot use `app.jwt.verify`, which would call the function without the
 * request, and verifies through `request.jwtVerify()` instead. Asked of `app.jwt.verify` with a malformed token:
 * fast-jwt throws at once when the key is static, and answers with a rejected promise when the key comes from a
 * function. The function itself is never called: the token fails to decode first.
 */
export function usesSecretFunction (jwt: JWT): boolean {
  let answer: unknown
  try {
    answer = jwt.verify('malformed')
  } catch {
    return false
  }
  // The rejection is the answer we asked for, not an error to report.
  Promise.resolve(answer).catch(() => {})
  return typeof (answer as { then?: unknown } | null)?.then === 'function'
}
