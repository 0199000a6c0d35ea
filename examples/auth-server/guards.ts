import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import { WrongTokenTypeError } from './errors.js'
import { asAccessClaims, type AccessPayload } from './tokens.js'

/** The verified, non-revoked access token of a request that passed accessOnly. */
export function accessClaims (request: FastifyRequest): AccessPayload {
  const claims = asAccessClaims(request.user)
  if (claims === undefined) throw new WrongTokenTypeError()
  return claims
}

/**
 * onRequest hooks of every authenticated route: the plugin's authenticate (a verified token that is not revoked),
 * then the token type, so a refresh token can never be used as an access token.
 */
export function accessOnly (app: FastifyInstance): onRequestHookHandler[] {
  const checkType: onRequestHookHandler = async (request) => { accessClaims(request) }
  return [app.authenticate, checkType]
}

/** The user agent recorded with a session, cut to a length fit for a list. */
export function userAgentOf (request: FastifyRequest): string {
  return (request.headers['user-agent'] ?? 'unknown').slice(0, 200)
}
