import type { Static } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { SessionNotFoundError } from '../errors.js'
import { accessClaims, accessOnly } from '../guards.js'
import { authenticated, authenticatedWithInput, described, errorResponse, noContent, SessionList, SessionParams, SessionSummary } from '../schemas.js'
import type { SessionRecord } from '../sessions/store.js'
import { bearerAuth, type RouteDeps } from './deps.js'

/** What a session list shows of a session: when and from where, not the token ids the store tracks. */
export function sessionSummary (session: SessionRecord): Static<typeof SessionSummary> {
  return {
    id: session.id,
    createdAt: new Date(session.createdAt).toISOString(),
    lastRefreshedAt: new Date(session.lastRefreshedAt).toISOString(),
    userAgent: session.userAgent
  }
}

/** The user's live sessions (one per login), and revoking one of them. */
export const sessionRoutes: FastifyPluginAsync<RouteDeps> = async (app, { auth }) => {
  app.get('/auth/sessions', {
    onRequest: accessOnly(app),
    schema: {
      tags: ['sessions'],
      summary: 'The user\'s live sessions, oldest first; `current` marks the caller\'s',
      security: bearerAuth,
      response: { 200: described('The sessions', SessionList), ...authenticated }
    }
  }, async (request) => {
    const { sub, sid } = accessClaims(request)
    const sessions = await auth.sessions.list(sub)
    return sessions.map((session) => ({ ...sessionSummary(session), current: session.id === sid }))
  })

  app.delete<{ Params: Static<typeof SessionParams> }>('/auth/sessions/:id', {
    onRequest: accessOnly(app),
    schema: {
      tags: ['sessions'],
      summary: 'End one session of the user (an id from GET /auth/sessions) and revoke its tokens',
      security: bearerAuth,
      params: SessionParams,
      response: {
        204: noContent('The session has ended'),
        ...authenticatedWithInput,
        404: errorResponse('The user has no such session', new SessionNotFoundError())
      }
    }
  }, async (request, reply) => {
    // Another user's session id is a 404 like an unknown one: nobody learns which ids exist.
    if (!await auth.endSession(accessClaims(request).sub, request.params.id)) throw new SessionNotFoundError()
    return reply.code(204).send()
  })
}
