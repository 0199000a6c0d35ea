// A resource server behind an OpenID Provider: it verifies the provider's access tokens (JWT, RFC 9068) with the
// provider's keys, refuses revoked ones on every instance, and receives the provider's back-channel logouts.
import fastifyJwt, { type JwtHeader, type TokenOrHeader } from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import buildGetJwks from 'get-jwks'
import jwtRevoke, { backchannelLogout } from '../../index.js'

export interface ResourceServerOptions {
  /** The provider's issuer identifier; its keys are found through <issuer>/.well-known/openid-configuration. */
  issuer: string
  /** The `aud` this API's access tokens carry (its resource indicator, or the API identifier at Auth0). */
  audience: string
  /** The client_id(s) whose back-channel logout URI points here: the `aud` of the logout tokens. */
  logoutAudience: string | string[]
  /** Redis shared by every instance; without it, an in-memory store (one instance only). */
  redisUrl?: string | undefined
  logger?: FastifyServerOptions['logger']
}

/** What the provider signs with; never an HMAC (its key would be the JWKS everyone can read). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

export async function buildResourceServer (options: ResourceServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false })
  // Keys by kid from the JWKS the discovery document names: cached, fetched again when the provider rotates its keys.
  const getJwks = buildGetJwks({ providerDiscovery: true, issuersWhitelist: [options.issuer] })
  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: async (_request: FastifyRequest, token: TokenOrHeader) => {
      const { header } = token as { header: JwtHeader }
      return await getJwks.getPublicKey({ domain: options.issuer, kid: header.kid as string, alg: header.alg })
    },
    // RFC 9068: an access token is typed at+jwt, so an ID token or a logout token is never taken for one.
    verify: { allowedIss: options.issuer, allowedAud: options.audience, algorithms: [...ALGORITHMS], checkTyp: 'at+jwt' }
  })
  await app.register(jwtRevoke, options.redisUrl === undefined ? { store: 'memory' } : { store: 'redis', redis: options.redisUrl })
  // POST /backchannel-logout: the provider's logout ends the session's tokens on every instance.
  await app.register(backchannelLogout, { issuer: options.issuer, audience: options.logoutAudience })

  app.get('/me', { onRequest: [app.authenticate] }, async (request) => {
    const { sub, sid, scope, client_id: clientId } = request.user as Record<string, unknown>
    return { sub, sid, scope, client_id: clientId }
  })
  return app
}
