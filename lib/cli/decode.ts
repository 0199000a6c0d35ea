import { UsageError } from './errors.js'

const BASE64URL = /^[A-Za-z0-9_-]+$/

function decodePart (part: string, name: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw new UsageError(`malformed token: its ${name} is not base64url`)
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    throw new UsageError(`malformed token: its ${name} is not JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`malformed token: its ${name} is not a JSON object`)
  }
  return value as Record<string, unknown>
}

/**
 * The payload of a JWT, decoded but NOT verified: the operator may not hold the secret. Safe here because the CLI is
 * run by someone who already has write access to Redis; a forged token can only revoke what its claims name.
 * Accepts the token as copied from an Authorization header ("Bearer ...") too.
 */
export function decodeToken (input: string): Record<string, unknown> {
  const parts = input.trim().replace(/^Bearer\s+/i, '').split('.')
  if (parts.length !== 3) throw new UsageError(`malformed token: a JWT has 3 dot-separated parts, this has ${parts.length}`)
  // The header is only checked for shape, so that a random dotted string is not taken for a token.
  decodePart(parts[0] as string, 'header')
  return decodePart(parts[1] as string, 'payload')
}
