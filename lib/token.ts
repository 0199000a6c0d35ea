import type { JWT } from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'

const BEARER = /^Bearer\s/i

type ExtractToken = (request: FastifyRequest) => string | void

/**
 * Builds the function that finds a request's token the way @fastify/jwt's lookupToken does (its extractToken option,
 * then `Authorization: Bearer`, then its cookie), but answers undefined instead of throwing when there is none: most
 * requests of a public route carry no token, and an exception per request would cost more than the check itself.
 */
export function tokenFinder (jwt: JWT): (request: FastifyRequest) => string | undefined {
  const verifyOptions = jwt.options.verify as { extractToken?: ExtractToken, onlyCookie?: boolean }
  const extractToken = verifyOptions.extractToken
  if (extractToken !== undefined) {
    return (request) => {
      try {
        return extractToken(request) || undefined
      } catch {
        return undefined
      }
    }
  }
  const readHeader = verifyOptions.onlyCookie !== true
  const cookieName = jwt.cookie?.cookieName
  return (request) => {
    const header = request.headers.authorization
    if (readHeader && header !== undefined && BEARER.test(header)) {
      const parts = header.split(' ')
      return parts.length === 2 && parts[1] !== '' ? parts[1] : undefined
    }
    if (cookieName === undefined) return undefined
    const cookies = (request as { cookies?: Record<string, string | undefined> }).cookies
    if (cookies?.[cookieName] === undefined) return undefined
    try {
      // lookupToken knows how to unsign a signed cookie.
      return jwt.lookupToken(request)
    } catch {
      return undefined
    }
  }
}
