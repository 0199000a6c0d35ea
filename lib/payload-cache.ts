import { decodePayload } from './payload.js'

/**
 * Decodes verified tokens' payloads, remembering the last ones: a client sends the same token on request after
 * request, and the payload is a function of the token's text alone, so the base64url decode and JSON.parse (about
 * half of what the check adds to a request) are done once per token. Only tokens @fastify/jwt has just verified
 * are asked for, and the payloads are read, never changed. At `max` entries it starts afresh: no eviction order
 * to keep, and a working set larger than that only costs the decode again.
 */
export function payloadCache (max: number): (token: string | undefined) => unknown {
  const payloads = new Map<string, unknown>()
  return (token) => {
    if (token === undefined) return undefined
    const known = payloads.get(token)
    if (known !== undefined) return known
    const payload = decodePayload(token)
    if (payloads.size >= max) payloads.clear()
    if (payload !== undefined) payloads.set(token, payload)
    return payload
  }
}
