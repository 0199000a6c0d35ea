import type { Static } from '@sinclair/typebox'
import type { FastifyError, FastifyPluginAsync, FastifyRequest } from 'fastify'
import { bodyOptional } from '../delivery.js'
import { CrossSiteRequestError, InvalidRefreshTokenError } from '../errors.js'
import { accessClaims, accessOnly, userAgentOf } from '../guards.js'
import { perIp, perUsername } from '../rate-limits.js'
import {
  authenticated, authenticatedWithInput, badRequest, Credentials, described, errorResponse, invalidCredentials, noContent,
  OptionalRefreshBody, RefreshBody, TokenPair, tooManyRequests
} from '../schemas.js'
import { asRefreshClaims, type RefreshPayload } from '../tokens.js'
import { bearerAuth, type RouteDeps } from './deps.js'

/**
 * The refresh token of the request (body, or cookie), verified by its @fastify/jwt namespace and checked against the
 * deny-list by the plugin. Every client-side failure (none, garbage, forged, expired, revoked) is the same 401; a
 * store that cannot answer stays a 503.
 */
async function verifiedRefresh (request: FastifyRequest): Promise<RefreshPayload> {
  let payload: unknown
  try {
    payload = await request.refreshJwtVerify()
  } catch (error) {
    if (((error as FastifyError).statusCode ?? 500) >= 500) throw error
    throw new InvalidRefreshTokenError()
  }
  const claims = asRefreshClaims(payload)
  if (claims === undefined) throw new InvalidRefreshTokenError()
  return claims
}

/** Login, refresh, logout and logout-all: the routes that issue and end token pairs. */
export const tokenRoutes: FastifyPluginAsync<RouteDeps> = async (app, { auth, delivery, limits }) => {
  // The 403 of the routes that set or read the refresh cookie, in cookie mode.
  const crossSite = delivery.cookie ? { 403: errorResponse('Cookie mode: the request comes from another site (its Origin)', new CrossSiteRequestError()) } : {}
  app.post<{ Body: Static<typeof Credentials> }>('/auth/login', {
    // Cookie mode: another site's form may not log the browser in (delivery.ts). Then two limits: per client IP
    // (onRequest, before the body is even parsed), then per username (see perUsername).
    onRequest: delivery.cookieRouteGuards(),
    config: perIp(limits?.loginPerIp),
    preHandler: perUsername(app, limits?.loginPerUsername),
    schema: {
      tags: ['tokens'],
      summary: 'Log in: starts a session and issues its first token pair',
      body: Credentials,
      response: {
        200: described('An access token and a refresh token (in a cookie instead with REFRESH_COOKIE=1)', TokenPair),
        ...badRequest,
        ...invalidCredentials,
        ...crossSite,
        ...tooManyRequests(limits !== undefined)
      }
    }
  }, async (request, reply) => {
    return delivery.send(reply, await auth.login(request.body.username, request.body.password, userAgentOf(request)))
  })

  app.post<{ Body: Static<typeof OptionalRefreshBody> }>('/auth/refresh', {
    onRequest: delivery.cookieRouteGuards(),
    config: perIp(limits?.refresh),
    // With the cookie the body may be empty; without it refreshToken is required (a 400 naming it when missing).
    preValidation: delivery.cookie ? bodyOptional : undefined,
    schema: {
      tags: ['tokens'],
      summary: 'Exchange a refresh token for a new pair (rotation; a rotated token presented again ends the session)',
      body: delivery.cookie ? OptionalRefreshBody : RefreshBody,
      response: {
        200: described('The new pair; the refresh token presented is dead from now on', TokenPair),
        ...badRequest,
        401: errorResponse('Invalid, expired, revoked or already rotated refresh token', new InvalidRefreshTokenError()),
        ...crossSite,
        ...tooManyRequests(limits !== undefined)
      }
    }
  }, async (request, reply) => {
    return delivery.send(reply, await auth.refresh(await verifiedRefresh(request)))
  })

  app.post<{ Body: Static<typeof OptionalRefreshBody> }>('/auth/logout', {
    onRequest: [...delivery.cookieRouteGuards(), ...accessOnly(app)],
    preValidation: bodyOptional,
    schema: {
      tags: ['tokens'],
      summary: 'Log out: revokes the access token and ends its session (and the refresh token\'s, if one is sent)',
      security: bearerAuth,
      body: OptionalRefreshBody,
      response: { 204: noContent('Logged out: the session\'s tokens are revoked'), ...authenticatedWithInput, ...crossSite }
    }
  }, async (request, reply) => {
    const claims = accessClaims(request)
    await request.revokeToken()
    await auth.endSession(claims.sub, claims.sid)
    // A refresh token sent along may belong to another session of the same user; never to another user's. None, or
    // one already dead, leaves nothing more to end.
    const refreshClaims = await verifiedRefresh(request).catch(() => undefined)
    if (refreshClaims?.sub === claims.sub) await auth.endSession(claims.sub, refreshClaims.sid)
    delivery.clear(reply)
    return reply.code(204).send()
  })

  app.post('/auth/logout-all', {
    onRequest: accessOnly(app),
    schema: {
      tags: ['tokens'],
      summary: 'Log out everywhere: every token of the user issued up to now is revoked, every session ends',
      security: bearerAuth,
      response: { 204: noContent('Every session of the user has ended'), ...authenticated }
    }
  }, async (request, reply) => {
    await auth.endAllSessions(accessClaims(request).sub)
    delivery.clear(reply)
    return reply.code(204).send()
  })
}
