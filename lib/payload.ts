/**
 * The claims object of a token @fastify/jwt has just verified. The check must read `jti`, `sub`, `iat` and `exp` from
 * the signed payload itself, whatever the app's `formatUser` makes of it (it may drop claims) and whatever `complete`
 * says (a complete token nests them under `payload`), so it decodes the verified token's middle segment: a base64url
 * decode and one JSON.parse, cheaper than any second verification. Undefined for text that is not a JWT payload.
 */
export function decodePayload (token: string): unknown {
  const start = token.indexOf('.')
  const end = token.indexOf('.', start + 1)
  if (start < 0 || end < 0) return undefined
  try {
    return JSON.parse(Buffer.from(token.slice(start + 1, end), 'base64url').toString('utf8'))
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
