import fastifyCookie from '@fastify/cookie'
import fastifyFormbody from '@fastify/formbody'
import fastifyJwt, { type JWT } from '@fastify/jwt'
import fastifyRedis from '@fastify/redis'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { createHmac } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import jwtRevoke from '../../index.js'
import { Auth } from './auth.js'
import { PairDelivery } from './delivery.js'
import { Passwords, type HashingOptions } from './passwords.js'
import { defaultRateLimits, registerRateLimits, type RateLimits } from './rate-limits.js'
import { accountRoutes } from './routes/account.js'
import { adminRoutes } from './routes/admin.js'
import { liveRoutes } from './routes/live.js'
import type { RouteDeps } from './routes/deps.js'
import { oauthRoutes } from './routes/oauth.js'
import { sessionRoutes } from './routes/sessions.js'
import { tokenRoutes } from './routes/tokens.js'
import { MemorySessionStore } from './sessions/memory.js'
import { RedisSessionStore } from './sessions/redis.js'
import type { SessionStore } from './sessions/store.js'
import { Tokens } from './tokens.js'
import { MemoryUserStore } from './users/memory.js'
import { RedisUserStore } from './users/redis.js'
import type { UserStore } from './users/store.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The refresh namespace's verification (registered in buildAuthServer), guarded by the plugin like the others. */
    refreshJwtVerify: FastifyRequest['jwtVerify']
  }
}

export interface AuthServerOptions {
  /** HS256 key of the access tokens. */
  jwtSecret: string
  /**
   * HS256 key of the refresh tokens. Default: derived from jwtSecret (HMAC-SHA256), so one JWT_SECRET configures a
   * fleet and the two keys still differ; set it to rotate one key without the other.
   */
  refreshSecret?: string | undefined
  /**
   * A redis:// URL: the deny-list, the sessions, the users and the rate-limit counters go to Redis, shared by every
   * instance (which must then share jwtSecret too). Default: in memory.
   */
  redisUrl?: string | undefined
  /** With redisUrl: the plugin's mode, 'lookup' (default, one Redis read per check) or 'mirror' (a copy in process). */
  denyListMode?: 'lookup' | 'mirror'
  /** Milliseconds the deny-list store gets per check before a request is answered 503. Default: the plugin's (200). */
  storeTimeout?: number
  /** Prefix of the Redis keys of the example's own data: sessions, users, rate-limit counters. */
  keyPrefix?: string
  /**
   * keyPrefix of the plugin's deny-list. Default: the plugin's own default, `jwt-revoke:`, which is also the ops CLI's
   * default, so `fastify-jwt-revoke revoke <token>` acts on this app without a --key-prefix.
   */
  denyListPrefix?: string
  /** Seconds an access token lives: minutes, since a stolen one stays usable until revoked or expired. */
  accessTokenTtl?: number
  /** Seconds a refresh token lives; every rotation starts a new period (a session idle that long ends). */
  refreshTokenTtl?: number
  /**
   * Seconds during which the refresh token just rotated out may be presented once more without counting as theft
   * (two tabs refreshing at once). 0, the default, is strict. More is friendlier, but a thief who replays a
   * stolen token within the window gets a valid pair instead of getting the family killed.
   */
  refreshReuseGrace?: number
  /**
   * Send the refresh token in an httpOnly, Secure, SameSite=Strict cookie instead of the JSON body. Login, refresh and
   * logout then refuse requests from another origin (delivery.ts says why).
   */
  refreshCookie?: boolean
  /** Origins besides this server's own allowed to call login, refresh and logout in cookie mode (a front end's). */
  allowedOrigins?: readonly string[]
  /** The admin's username (the safe choice). */
  adminUsername?: string | undefined
  /**
   * Without adminUsername: the first user to register becomes the admin. Off by default, since on a fresh deployment
   * whoever registers first gets the role; turn it on only while the operator registers first.
   */
  firstUserIsAdmin?: boolean
  /**
   * Brute-force limits of the public routes; each one left out keeps its default (rate-limits.ts). `false` turns them
   * all off: for scripted tests of the app, never in production.
   */
  rateLimits?: Partial<RateLimits> | false
  /** Where users live, when not in the example's own stores: a real deployment plugs its database in here. */
  users?: UserStore
  /** argon2 cost; argon2's defaults unless set (tests use cheap ones). */
  hashing?: HashingOptions
  logger?: FastifyServerOptions['logger']
}

export const defaults = {
  keyPrefix: 'auth-server:',
  accessTokenTtl: 15 * 60,
  refreshTokenTtl: 14 * 24 * 3600,
  refreshReuseGrace: 0
}

const HOW_TO_AUTHORIZE = 'Routes with a lock take an access token. To try them here: `POST /auth/register`, then ' +
  '`POST /auth/login` with the same username and password, copy `accessToken` from the reply, press **Authorize** and ' +
  'paste it (without `Bearer `). It expires within minutes (15 by default); `POST /auth/refresh` gives a new pair.'

interface OpenApiOperation { requestBody?: { required?: boolean, content?: Record<string, { schema?: { required?: string[] } }> } }

/**
 * @fastify/swagger marks every request body required. A body whose schema requires no property may be left out
 * (those routes fill in `{}`: delivery.ts's bodyOptional), so the document says so, and the docs page can send none.
 */
function markOptionalBodies (paths: object): void {
  for (const operations of Object.values(paths) as Array<Record<string, OpenApiOperation>>) {
    for (const operation of Object.values(operations)) {
      const body = operation.requestBody
      if (body?.content === undefined) continue
      if (Object.values(body.content).every(({ schema }) => (schema?.required ?? []).length === 0)) body.required = false
    }
  }
}

async function registerDocs (app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'fastify-jwt-revoke example auth server', version: '1.0.0', description: HOW_TO_AUTHORIZE },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: HOW_TO_AUTHORIZE } }
      }
    },
    transformObject: (documents) => {
      if (!('openapiObject' in documents)) return documents.swaggerObject
      markOptionalBodies(documents.openapiObject.paths ?? {})
      return documents.openapiObject
    }
  })
  // The docs page at /docs, the document itself at /docs/json.
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
}

/** Builds the example app; the caller listens (server.ts) or injects (the tests), and closes it. */
export async function buildAuthServer (options: AuthServerOptions): Promise<FastifyInstance> {
  const settings = { ...defaults, ...options }
  const app = Fastify({
    logger: options.logger ?? false,
    ajv: {
      customOptions: {
        // JSON types are meant: a number where the schema wants a string is a 400, not a password "12345678".
        coerceTypes: false,
        // Fastify's default (true) deletes undeclared properties before validation, so `additionalProperties: false`
        // would never answer 400: an unknown property is a client's mistake (or probe) it should hear about.
        removeAdditional: false
      }
    }
  })
  const delivery = new PairDelivery({
    cookie: settings.refreshCookie === true,
    accessTtl: settings.accessTokenTtl,
    refreshTtl: settings.refreshTokenTtl,
    allowedOrigins: settings.allowedOrigins
  })
  // Access tokens: @fastify/jwt without a namespace, so app.authenticate and request.jwtVerify() verify them (from
  // the Authorization header).
  await app.register(fastifyJwt, { secret: settings.jwtSecret })
  // Refresh tokens: a namespace with a key of its own, so neither kind ever passes for the other. Routes verify them
  // with request.refreshJwtVerify(), which finds the token in the body (or the cookie) and which the plugin guards as
  // it guards every @fastify/jwt verification: a revoked refresh token is refused by the verification itself. The
  // claims go to `request.refreshClaims`, leaving request.user to the access token.
  await app.register(fastifyJwt, {
    secret: settings.refreshSecret ?? createHmac('sha256', settings.jwtSecret).update('refresh tokens').digest('base64url'),
    namespace: 'refresh',
    decoratorName: 'refreshClaims',
    verify: { extractToken: (request: FastifyRequest) => delivery.read(request, (request.body as { refreshToken?: string } | undefined)?.refreshToken) }
  })
  await app.register(fastifyFormbody)
  if (settings.refreshCookie === true) await app.register(fastifyCookie)

  let sessions: SessionStore
  let users: UserStore
  // The plugin, registered after both @fastify/jwt registrations: it guards both. maxTokenLifetime is the longest
  // token's (the refresh token's): a logout-everywhere cutoff must outlive every token issued before it.
  if (settings.redisUrl === undefined) {
    // In memory: one instance only.
    await app.register(jwtRevoke, { store: 'memory', maxTokenLifetime: settings.refreshTokenTtl, storeTimeout: settings.storeTimeout })
    sessions = new MemorySessionStore()
    users = options.users ?? new MemoryUserStore(settings.adminUsername, settings.firstUserIsAdmin)
  } else {
    // @fastify/redis made this client, so it quits it on close, after the server has stopped taking requests.
    await app.register(fastifyRedis, { url: settings.redisUrl })
    // On Redis (app.redis, borrowed: the plugin checks on a duplicate() of its own): every instance sees every revocation.
    await app.register(jwtRevoke, {
      store: 'redis', keyPrefix: settings.denyListPrefix, maxTokenLifetime: settings.refreshTokenTtl, mode: settings.denyListMode, storeTimeout: settings.storeTimeout
    })
    sessions = new RedisSessionStore(app.redis, `${settings.keyPrefix}sessions:`)
    users = options.users ?? new RedisUserStore(app.redis, `${settings.keyPrefix}users:`, settings.adminUsername, settings.firstUserIsAdmin)
  }
  // After @fastify/redis (the limits share its client) and before the routes (the plugin hooks their creation).
  if (settings.rateLimits !== false) {
    await registerRateLimits(app, settings.redisUrl === undefined ? undefined : `${settings.keyPrefix}rate-limit:`)
  }

  await registerDocs(app)
  const passwords = new Passwords(settings.hashing)
  // @fastify/jwt types app.jwt as one registration; typing it as the namespace map (FastifyJWT's `namespaces`) would
  // hide the default one's sign(), so the refresh registration is read by its name.
  const refreshJwt = (app.jwt as unknown as { refresh: JWT }).refresh
  const tokens = new Tokens({ access: app.jwt, refresh: refreshJwt }, { access: settings.accessTokenTtl, refresh: settings.refreshTokenTtl })
  const deps: RouteDeps = {
    auth: new Auth({ app, users, sessions, tokens, passwords, reuseGrace: settings.refreshReuseGrace }),
    users,
    passwords,
    limits: settings.rateLimits === false ? undefined : { ...defaultRateLimits, ...settings.rateLimits },
    delivery
  }
  await app.register(accountRoutes, deps)
  await app.register(tokenRoutes, deps)
  await app.register(sessionRoutes, deps)
  await app.register(oauthRoutes, deps)
  await app.register(adminRoutes, deps)
  await app.register(liveRoutes, deps)
  return app
}

/** Which store an app built with these options uses, for the startup log. */
export function storeName (options: Pick<AuthServerOptions, 'redisUrl'>): 'redis' | 'memory' {
  return options.redisUrl === undefined ? 'memory' : 'redis'
}
