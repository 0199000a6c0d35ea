// The entry point of `npm run example:resource-server`. Environment: OIDC_ISSUER (required: the provider, discovered
// through /.well-known/openid-configuration), OIDC_AUDIENCE (required: the aud of this API's access tokens),
// OIDC_CLIENT_ID (the client whose back-channel logout URI is this server's /backchannel-logout; default
// OIDC_AUDIENCE; several separated by commas), PORT (default 3001), HOST (default 127.0.0.1), REDIS_URL (default: in
// memory, one instance only), LOG_LEVEL (default info).
import { buildResourceServer } from './app.js'

function env (name: string): string | undefined {
  const value = process.env[name]
  return value === '' ? undefined : value
}

function required (name: string): string {
  const value = env(name)
  if (value === undefined) throw new Error(`${name} must be set`)
  return value
}

const audience = required('OIDC_AUDIENCE')
const app = await buildResourceServer({
  issuer: required('OIDC_ISSUER'),
  audience,
  logoutAudience: (env('OIDC_CLIENT_ID') ?? audience).split(','),
  redisUrl: env('REDIS_URL'),
  logger: { level: env('LOG_LEVEL') ?? 'info' }
})
await app.listen({ port: Number(env('PORT') ?? 3001), host: env('HOST') ?? '127.0.0.1' })
