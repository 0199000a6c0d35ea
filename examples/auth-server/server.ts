// The entry point of `npm run example`. Environment: PORT (default 3000), HOST (default 127.0.0.1), JWT_SECRET
// (default: a random one, logged as such), JWT_REFRESH_SECRET (the refresh tokens' key; default: derived from
// JWT_SECRET), REDIS_URL (default: everything in memory), REFRESH_REUSE_GRACE (seconds, default 0), REFRESH_COOKIE=1
// (refresh token in an httpOnly cookie), ADMIN_USERNAME (the admin; default none),
// FIRST_USER_IS_ADMIN=1 (without ADMIN_USERNAME: the first user to register is the admin; default off),
// ALLOWED_ORIGINS (with REFRESH_COOKIE=1: comma-separated origins besides the server's own that may log in),
// RATE_LIMITS=off (no brute-force limits, for scripted tests; default on).
import { randomBytes } from 'node:crypto'
import closeWithGrace from 'close-with-grace'
import { buildAuthServer, storeName, type AuthServerOptions } from './app.js'

/** An environment variable; set but empty counts as unset. */
function env (name: string): string | undefined {
  const value = process.env[name]
  return value === '' ? undefined : value
}

/** A whole number of at least 0 from the environment, or the fallback; anything else stops the start. */
function count (name: string, fallback: number): number {
  const value = Number(env(name) ?? fallback)
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number >= 0`)
  return value
}

/** RATE_LIMITS: on (the default) or off. */
function rateLimitsOn (): boolean {
  const value = env('RATE_LIMITS') ?? 'on'
  if (value !== 'on' && value !== 'off') throw new Error('RATE_LIMITS must be on or off')
  return value === 'on'
}

const secretFromEnv = env('JWT_SECRET')
const limited = rateLimitsOn()
const options: AuthServerOptions = {
  // Never a hard-coded secret: without JWT_SECRET each start signs with a new random key.
  jwtSecret: secretFromEnv ?? randomBytes(32).toString('base64url'),
  // Unset: derived from JWT_SECRET (app.ts).
  refreshSecret: env('JWT_REFRESH_SECRET'),
  redisUrl: env('REDIS_URL'),
  refreshReuseGrace: count('REFRESH_REUSE_GRACE', 0),
  refreshCookie: env('REFRESH_COOKIE') === '1',
  allowedOrigins: env('ALLOWED_ORIGINS')?.split(',').map((origin) => origin.trim()),
  adminUsername: env('ADMIN_USERNAME'),
  firstUserIsAdmin: env('FIRST_USER_IS_ADMIN') === '1',
  ...limited ? {} : { rateLimits: false },
  logger: { level: env('LOG_LEVEL') ?? 'info' }
}

const app = await buildAuthServer(options)
if (secretFromEnv === undefined) {
  app.log.warn(options.redisUrl === undefined
    ? 'JWT_SECRET is not set: signing with a random secret, so tokens will not survive a restart'
    : 'JWT_SECRET is not set: signing with a random secret, so tokens will not survive a restart, and no other ' +
      'instance on this Redis accepts them (every instance must be started with the same JWT_SECRET)')
} else if (options.redisUrl !== undefined) {
  app.log.info('every instance sharing this Redis must be started with the same JWT_SECRET, or it refuses the others\' tokens')
}
if (!limited) app.log.warn('RATE_LIMITS=off: no brute-force limits on login, register, refresh and /oauth/revoke; never in production')

// Ctrl-C, SIGTERM or an uncaught error: stop taking connections, let the requests in flight finish, then run the
// onClose hooks (Redis quits last). A second signal, or 10 s without an end, stops the process at once.
closeWithGrace({ delay: 10_000, logger: app.log }, async ({ signal, err }) => {
  if (err === undefined) app.log.info({ signal }, 'shutting down')
  else app.log.error({ err }, 'shutting down after an error')
  await app.close()
})

try {
  const address = await app.listen({ port: count('PORT', 3000), host: env('HOST') ?? '127.0.0.1' })
  app.log.info(`auth-server listening on ${address} with the ${storeName(options)} store; docs at ${address}/docs`)
} catch (error) {
  app.log.error(error)
  process.exit(1)
}
