import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import { AdminOnlyError, WrongTokenTypeError } from './errors.js'
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

/**
 * onRequest hooks of the admin routes: an access token as for accessOnly, whose role claim is admin. The claim was
 * signed by this server, so a body or header claiming admin changes nothing. A 403, not a 401: the token is fine.
 */
export function adminOnly (app: FastifyInstance): onRequestHookHandler[] {
  const checkRole: onRequestHookHandler = async (request) => {
    if (accessClaims(request).role !== 'admin') throw new AdminOnlyError()
  }
  return [...accessOnly(app), checkRole]
}

/** The user agent recorded with a session, cut to a length fit for a list. */
export function userAgentOf (request: FastifyRequest): string {
  return (request.headers['user-agent'] ?? 'unknown').slice(0, 200)
}
