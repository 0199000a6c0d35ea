import type { Static } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { UserNotFoundError } from '../errors.js'
import { accessClaims, adminOnly } from '../guards.js'
import { authenticatedWithInput, described, errorResponse, noContent, notAdmin, SessionSummaryList, UsernameParams } from '../schemas.js'
import type { User } from '../users/store.js'
import { bearerAuth, type RouteDeps } from './deps.js'
import { sessionSummary } from './sessions.js'

/**
 * What an administrator may do to another user: force a logout (the fourth reason to revoke a token, after logout,
 * password change and refresh) and see the user's sessions. The role comes from the admin's verified access token.
 */
export const adminRoutes: FastifyPluginAsync<RouteDeps> = async (app, { auth, users }) => {
  // The role check runs before the lookup, so only an admin learns which usernames exist (404).
  const schema = {
    tags: ['admin'],
    security: bearerAuth,
    params: UsernameParams
  }
  const errors = { ...authenticatedWithInput, ...notAdmin, 404: errorResponse('No user of that name', new UserNotFoundError()) }

  async function target (username: string): Promise<User> {
    const user = await users.findByName(username)
    if (user === undefined) throw new UserNotFoundError()
    return user
  }

  app.post<{ Params: Static<typeof UsernameParams> }>('/admin/users/:username/logout', {
    onRequest: adminOnly(app),
    schema: {
      ...schema,
      summary: 'Force-logout a user: every token of theirs is revoked, every session ends (they may log in again)',
      response: { 204: noContent('Every token and session of the user is revoked'), ...errors }
    }
  }, async (request, reply) => {
    const user = await target(request.params.username)
    // Logout everywhere on the user's behalf: a subject cutoff refuses every token issued so far, access and
    // refresh alike, even one no session tracks; every session is ended. The user may log in again afterwards.
    await auth.endAllSessions(user.id)
    // An audit trail of who logged out whom; ids only, never a token.
    request.log.info({ admin: accessClaims(request).sub, user: user.id }, 'auth-server: admin force-logout')
    return reply.code(204).send()
  })

  app.get<{ Params: Static<typeof UsernameParams> }>('/admin/users/:username/sessions', {
    onRequest: adminOnly(app),
    schema: {
      ...schema,
      summary: 'A user\'s live sessions, oldest first',
      response: { 200: described('The sessions', SessionSummaryList), ...errors }
    }
  }, async (request) => {
    const sessions = await auth.sessions.list((await target(request.params.username)).id)
    return sessions.map(sessionSummary)
  })
}
