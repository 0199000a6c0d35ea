import type { Static } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { perIp } from '../rate-limits.js'
import { described, noContent, OAuthError, RevocationRequest, tooManyRequests } from '../schemas.js'
import type { RouteDeps } from './deps.js'

/**
 * RFC 7009 token revocation. The token is its own credential: whoever holds it may revoke it, and nothing else is
 * asked. The answer is 200 for a revoked, unknown, expired or garbage token alike, so the endpoint tells nobody
 * whether a string is a live token. token_type_hint is ignored: the key that signed the token says what it is.
 */
export const oauthRoutes: FastifyPluginAsync<RouteDeps> = async (app, { auth, limits }) => {
  app.post<{ Body: Static<typeof RevocationRequest> }>('/oauth/revoke', {
    // Anyone may call it without credentials, and each call verifies a signature: limited per client IP. It verifies
    // no request token, so a revoked Bearer header a client still sends is never looked at.
    config: perIp(limits?.revoke),
    // RFC 7009 errors have their own shape (RFC 6749 section 5.2), so validation errors are answered here.
    attachValidation: true,
    schema: {
      tags: ['oauth'],
      summary: 'RFC 7009 token revocation: the token is its own credential, no client authentication',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: RevocationRequest,
      response: {
        200: noContent('Revoked, or nothing to revoke (the same answer for any token, valid or not)'),
        400: described('invalid_request (no token), or unsupported_token_type (a verified token of another type)', OAuthError),
        ...tooManyRequests(limits !== undefined)
      }
    }
  }, async (request, reply) => {
    if (request.validationError !== undefined) {
      return reply.code(400).send({ error: 'invalid_request', error_description: request.validationError.message })
    }
    const token = auth.tokens.identify(request.body.token)
    if (token.kind === 'invalid') return reply.code(200).send()
    if (token.kind === 'unsupported') return reply.code(400).send({ error: 'unsupported_token_type' })
    // RFC 7009 section 2.1: revoking a refresh token also invalidates the access tokens of the same grant.
    if (token.kind === 'refresh') await auth.endSession(token.claims.sub, token.claims.sid)
    await app.revoke(token.claims)
    return reply.code(200).send()
  })
}
