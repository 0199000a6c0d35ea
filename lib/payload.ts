/**
 * The payload of the token @fastify/jwt has just verified. The check must read `jti`,
 * `sub`, `iat` and `exp` from the signed payload itself, whatever the app's `formatUser` makes of it (it may drop
 * claims) and whatever `complete` says (a complete token nests them under `payload`), so it decodes the same bytes
 * fast-jwt decoded, between the first and the last dot: a base64url decode and one JSON.parse. Undefined for text
 * that is not a JWT payload, which can only come from a lookup that did not find the token @fastify/jwt verified.
 */
export function decodePayload (token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, token.lastIndexOf('.')), 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

/** Whether a verified value is a complete token (`{ header, payload, signature }`, from `complete: true`). */
function isCompleteToken (value: unknown): value is { payload: unknown } {
  if (typeof value !== 'object' || value === null) return false
  const { header, payload, signature } = value as Record<string, unknown>
  return typeof header === 'object' && header !== null && typeof payload === 'object' && payload !== null && typeof signature === 'string'
}

/** The claims of what a verifier returned: the payload itself, or the `payload` of a complete token. */
export function claimsObject (verified: unknown): unknown {
  return isCompleteToken(verified) ? verified.payload : verified
}
