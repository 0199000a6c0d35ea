import type { Static } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { InvalidCredentialsError, UsernameTakenError, WrongPasswordError } from '../errors.js'
import { accessClaims, accessOnly, userAgentOf } from '../guards.js'
import { perIp, perUser } from '../rate-limits.js'
import { authenticated, authenticatedWithInput, badRequest, described, errorResponse, PasswordChange, Registration, TokenPair, User, tooManyRequests } from '../schemas.js'
import { bearerAuth, type RouteDeps } from './deps.js'

/** Register, the current user, and password change. */
export const accountRoutes: FastifyPluginAsync<RouteDeps> = async (app, { auth, users, passwords, delivery, limits }) => {
  app.post<{ Body: Static<typeof Registration> }>('/auth/register', {
    // Each registration costs an argon2 hash and a user entry: limited per client IP.
    config: perIp(limits?.register),
    schema: {
      tags: ['account'],
      summary: 'Register a user (the admin is the one ADMIN_USERNAME names, or the first one with FIRST_USER_IS_ADMIN=1)',
      body: Registration,
      response: {
        201: described('The new user', User),
        ...badRequest,
        409: errorResponse('The username is taken, in any letter case', new UsernameTakenError()),
        ...tooManyRequests(limits !== undefined)
      }
    }
  }, async (request, reply) => {
    const hash = await passwords.hash(request.body.password)
    const user = await users.create(request.body.username, hash)
    if (user === undefined) throw new UsernameTakenError()
    return reply.code(201).send({ id: user.id, username: user.username })
  })

  app.get('/me', {
    onRequest: accessOnly(app),
    schema: {
      tags: ['account'],
      summary: 'The user of the access token',
      security: bearerAuth,
      response: { 200: described('The user', User), ...authenticated }
    }
  }, async (request) => {
    const user = await users.findById(accessClaims(request).sub)
    // A valid token of a user the store does not know (in memory: a restart, or another instance without REDIS_URL).
    if (user === undefined) throw new InvalidCredentialsError()
    return { id: user.id, username: user.username }
  })

  // Changing the password logs out every session, this one included, then starts a new session for the caller: the
  // reply carries its new pair, and the old pair of this session is refused like all the others.
  app.post<{ Body: Static<typeof PasswordChange> }>('/auth/password', {
    onRequest: accessOnly(app),
    // Limited per IP (onRequest) and per user (after authentication, which names the user): a stolen access token
    // must not make the 403 of a wrong current password an oracle.
    config: perIp(limits?.passwordPerIp),
    preHandler: perUser(app, limits?.passwordPerUser, 'password-user'),
    schema: {
      tags: ['account'],
      summary: 'Change the password: every session of the user ends, the caller gets a new pair',
      security: bearerAuth,
      body: PasswordChange,
      response: {
        200: described('The password is changed; the new pair of the session that replaces the caller\'s', TokenPair),
        ...authenticatedWithInput,
        403: errorResponse('The current password is wrong (the session stays valid)', new WrongPasswordError()),
        ...tooManyRequests(limits !== undefined)
      }
    }
  }, async (request, reply) => {
    const user = await users.findById(accessClaims(request).sub)
    if (user === undefined) throw new InvalidCredentialsError()
    // A 403, not a 401: the session is fine, and a client that logs out on any 401 must not do so here.
    if (!await passwords.verify(user.passwordHash, request.body.currentPassword)) throw new WrongPasswordError()
    return delivery.send(reply, await auth.changePassword(user, request.body.newPassword, userAgentOf(request)))
  })
}
