import type { JWT } from '@fastify/jwt'

/** A registration's verify.clockTolerance, which @fastify/jwt hands to fast-jwt as it is: milliseconds. */
function toleranceMs (jwt: JWT): number {
  const tolerance = (jwt.options.verify as { clockTolerance?: unknown } | undefined)?.clockTolerance
  return typeof tolerance === 'number' && tolerance > 0 ? tolerance : 0
}

/**
 * How long past its exp a verifier of the app may still accept a token, in whole seconds: the widest clockTolerance of
 * the app's @fastify/jwt registrations (rounded up), or the plugin's acceptExpiredFor for routes that accept expired
 * tokens on purpose, whichever is longer. Read again only when a registration was added (namespaces found at onReady).
 */
export function acceptedPastExp (jwts: readonly JWT[], acceptExpiredFor: number): () => number {
  let counted = -1
  let seconds = 0
  return () => {
    if (jwts.length !== counted) {
      counted = jwts.length
      seconds = Math.max(acceptExpiredFor, Math.ceil(Math.max(0, ...jwts.map(toleranceMs)) / 1000))
    }
    return seconds
  }
}
