import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Algorithm } from 'fast-jwt'
import { UnsupportedSetupError } from './errors.js'
import { DEFAULT_ALGORITHMS, logoutTokenValidator, type LogoutRequest, type LogoutTokenError } from './logout-token.js'

/** Options of the back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0). */
export interface BackchannelLogoutOptions {
  /** The provider's issuer identifier, exactly as its tokens' `iss` (and its discovery document) say it. */
  issuer: string
  /** This relying party's client_id(s) at the provider: the logout token's `aud`. */
  audience: string | string[]
  /** The provider's JWKS URL; default: the `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string
  /** The route; default '/backchannel-logout' (under the prefix the plugin is registered with). */
  path?: string
  /** Signature algorithms accepted; default every asymmetric JOSE one (never 'none', never HS*). */
  algorithms?: Algorithm[]
  /** Seconds a logout token may be old, by its `iat`; default 300. */
  maxAge?: number
  /** Seconds of clock difference tolerated with the provider on `iat` and `exp`; default 60. */
  clockTolerance?: number
  /** Milliseconds a fetched key is cached; default 600 000. A token naming an unknown kid fetches the JWKS again. */
  jwksCacheTtl?: number
  /**
   * 'session' (default): a logout token naming a session (`sid`) revokes that session's tokens, and one naming only a
   * subject revokes every token of the subject. 'subject': every logout revokes all the subject's tokens, for a
   * provider whose access tokens carry no `sid` (a session revocation would not reach them).
   */
  revoke?: 'session' | 'subject'
}

const FORM = 'application/x-www-form-urlencoded'
// A logout token is a few hundred bytes; a provider has no reason to send more.
const BODY_LIMIT = 16 * 1024

// The replayed-token memory: an entry of the deny-list filed under this subject, which no token of the provider can
// have (it holds a NUL): a logout token id never shares a key with an access token's.
const SEEN = '\u0000backchannel-logout:'

function fail (reply: FastifyReply, description: string): FastifyReply {
  return reply.code(400).send({ error: 'invalid_request', error_description: description })
}

/** The one logout_token of the form body; a body parsed by @fastify/formbody (qs) may hold an array for a repeat. */
function logoutTokenOf (body: unknown): string | undefined {
  if (body instanceof URLSearchParams) {
    const all = body.getAll('logout_token')
    return all.length === 1 ? all[0] : undefined
  }
  const value = (body as Record<string, unknown> | null | undefined)?.logout_token
  return typeof value === 'string' ? value : undefined
}

/**
 * The receiver of a provider's back-channel logouts: POST `path` with a form-encoded `logout_token`, validated as
 * section 2.6 of OpenID Connect Back-Channel Logout 1.0 says, then every token of the session (`sid`) or, without a
 * session, of the subject (`sub`) is revoked, on every instance, through the plugin's store. The cutoff is the logout
 * token's own `iat`: tokens the provider issued after it pass, and a replay cannot move it. A logout token seen before
 * (its `jti`, remembered until its `exp`) changes nothing. Register it after fastify-jwt-revoke, with the provider's
 * issuer and this client's id.
 */
export async function backchannelLogout (fastify: FastifyInstance, options: BackchannelLogoutOptions): Promise<void> {
  if (!fastify.hasDecorator('jwtRevoke')) throw new UnsupportedSetupError('register fastify-jwt-revoke before backchannelLogout')
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new UnsupportedSetupError('backchannelLogout needs the provider\'s issuer')
  const audience = options.audience
  if (typeof audience === 'string' ? audience === '' : !Array.isArray(audience) || audience.length === 0) {
    throw new UnsupportedSetupError('backchannelLogout needs the audience (this client\'s id at the provider)')
  }
  const clockTolerance = options.clockTolerance ?? 60
  const bySubject = options.revoke === 'subject'
  const validate = logoutTokenValidator({
    issuer: options.issuer,
    audience,
    jwksUri: options.jwksUri,
    algorithms: options.algorithms ?? DEFAULT_ALGORITHMS,
    maxAge: options.maxAge ?? 300,
    clockTolerance,
    jwksCacheTtl: options.jwksCacheTtl ?? 600_000
  })
  // The plugin's own API (its store deadline, logs and counters), whatever names the app gave its decorators.
  const api = fastify.jwtRevoke.revocations

  // The form parser lives in this plugin's own context: the app's other routes are left as they are.
  if (!fastify.hasContentTypeParser(FORM)) {
    fastify.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
      done(null, new URLSearchParams(body as string))
    })
  }

  async function logout (request: LogoutRequest): Promise<void> {
    const seen = { jti: request.jti, sub: SEEN + request.iss, exp: request.exp + clockTolerance }
    if (await api.isRevoked(seen)) return
    // Before is the provider's own instant (its clock signs the access tokens too); never ahead of this server's clock.
    const before = Math.min(request.iat, Date.now() / 1000)
    if (request.sub !== undefined && (request.sid === undefined || bySubject)) await api.revokeSubject(request.sub, { before })
    else await api.revokeSession(request.sid as string, { before })
    // Kept until the logout token expires (plus the plugin's clock skew): past it, the token is refused anyway.
    await api.revoke(seen)
  }

  fastify.post(options.path ?? '/backchannel-logout', { bodyLimit: BODY_LIMIT }, async (request: FastifyRequest, reply: FastifyReply) => {
    // Section 2.8: neither answer may be cached.
    reply.header('cache-control', 'no-store')
    if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== FORM) return fail(reply, `the body must be ${FORM}`)
    const token = logoutTokenOf(request.body)
    if (token === undefined) return fail(reply, 'the body must hold exactly one logout_token')
    let logoutRequest: LogoutRequest
    try {
      logoutRequest = await validate(token)
    } catch (error) {
      // Only ever a LogoutTokenError: the validator wraps whatever failed (decoding, keys, discovery, claims).
      const reason = (error as LogoutTokenError).message
      request.log.warn({ reason }, 'jwt-revoke: refused a back-channel logout token')
      return fail(reply, reason)
    }
    await logout(logoutRequest)
    request.log.info({ sid: logoutRequest.sid, sub: logoutRequest.sid === undefined ? logoutRequest.sub : undefined }, 'jwt-revoke: back-channel logout')
    return reply.code(200).send()
  })
}
