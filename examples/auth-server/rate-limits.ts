import fastifyRateLimit, { type FastifyRateLimitOptions, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor, type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Redis } from 'ioredis'
import { RateLimitedError } from './errors.js'
import { accessClaims } from './guards.js'

/** At most `max` requests per `perSeconds` (a fixed window that starts with the first request). */
export interface Limit {
  max: number
  perSeconds: number
}

/**
 * The brute-force limits of the public routes. Every limit but loginPerUsername is per client IP (request.ip: behind
 * a proxy, give Fastify `trustProxy`, or every client shares the proxy's address and its limit).
 */
export interface RateLimits {
  /** Login attempts from one IP, whatever the usernames: one client spraying many accounts. */
  loginPerIp: Limit
  /** Login attempts at one username, from any IP: a botnet guessing one account's password. */
  loginPerUsername: Limit
  /**
   * Password changes from one IP, and by one user (the access token's subject) from any IP. The route answers 403 to
   * a wrong current password: without these, a stolen access token is a password oracle (hundreds of guesses a second).
   */
  passwordPerIp: Limit
  passwordPerUser: Limit
  register: Limit
  refresh: Limit
  revoke: Limit
}

export const defaultRateLimits: RateLimits = {
  // Above loginPerUsername: an office behind one NAT logs in many different people.
  loginPerIp: { max: 30, perSeconds: 60 },
  loginPerUsername: { max: 10, perSeconds: 60 },
  // A user changes a password rarely: a few tries per quarter of an hour leave room for typos, not for guessing.
  passwordPerIp: { max: 20, perSeconds: 15 * 60 },
  passwordPerUser: { max: 5, perSeconds: 15 * 60 },
  register: { max: 5, perSeconds: 60 },
  // A client refreshes every accessTokenTtl; many tabs and users behind one IP still stay far below this.
  refresh: { max: 60, perSeconds: 60 },
  revoke: { max: 30, perSeconds: 60 }
}

/**
 * The counters in Redis, each a fixed window: `<prefix><method><url>:<ip>` for a route's own limit,
 * `<prefix><key>` for a limiter made with createRateLimit, whose keyGenerator names it (`login-username:carol`).
 * @fastify/rate-limit's built-in Redis store names a counter after its route, and so files a createRateLimit counter,
 * which has none, under `undefinedundefined-`: this store is the same counter with readable keys.
 */
function redisCounters (client: Redis, prefix: string): FastifyRateLimitStoreCtor {
  class RedisCounters implements FastifyRateLimitStore {
    readonly #prefix: string

    // The plugin constructs the store with its options, which this one does not need; child() names the counters.
    constructor (_options: FastifyRateLimitOptions = {}, name = '') {
      this.#prefix = prefix + name
    }

    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      const counter = this.#prefix + key
      // The window starts with the first request (PEXPIRE NX: Redis 7) and is not extended by later ones.
      client.multi().incr(counter).pexpire(counter, timeWindow, 'NX').pttl(counter).exec().then((replies) => {
        callback(null, { current: Number(replies?.[0]?.[1]), ttl: Number(replies?.[2]?.[1]) })
      }, (error: Error) => callback(error))
    }

    child (route: Parameters<FastifyRateLimitStore['child']>[0] & { routeInfo?: { method?: string, url?: string } }): FastifyRateLimitStore {
      const { method, url } = route.routeInfo ?? {}
      return new RedisCounters({}, url === undefined ? '' : `${String(method)}${url}:`)
    }
  }
  return RedisCounters
}

/**
 * Registers @fastify/rate-limit for the routes that opt in (none are limited by default). With `redisPrefix` the
 * counters live in Redis under that prefix, so a limit holds across every instance; without, each instance counts in
 * its own memory.
 */
export async function registerRateLimits (app: FastifyInstance, redisPrefix: string | undefined): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    // The ioredis client of @fastify/redis, the one the deny-list uses: no second connection.
    ...redisPrefix === undefined ? {} : { store: redisCounters(app.redis, redisPrefix) },
    // The plugin sets Retry-After itself; the builder only makes the body match the app's other errors.
    errorResponseBuilder: (_request, context) => new RateLimitedError(String(Math.ceil(context.ttl / 1000)))
  })
}

/** Route config of a route limited per client IP; none when the limits are off. */
export function perIp (limit: Limit | undefined): { rateLimit?: RateLimitOptions } {
  return limit === undefined ? {} : { rateLimit: { max: limit.max, timeWindow: limit.perSeconds * 1000 } }
}

/**
 * A preHandler limiting the login attempts at one username, whatever the IP. The plugin runs one limit per route
 * (its route hook marks the request as done), so this second one is a createRateLimit limiter checked by hand. It runs
 * after validation, when body.username is known to be a string, and after the per-IP limit (onRequest), so a client
 * refused by its IP limit never spends the username's allowance.
 *
 * Every attempt counts, a successful one too: counting only failures would need a read before the password check and
 * a write after it, and parallel guesses would all pass the read. The price: anyone can keep a user from logging in
 * for one window by sending wrong passwords. A key of IP + username would avoid that, but would give a botnet `max`
 * guesses per IP; protecting the account wins here, and the window is short.
 */
export function perUsername (app: FastifyInstance, limit: Limit | undefined): preHandlerAsyncHookHandler | undefined {
  // Names compare case-insensitively (users/store.ts), so must their counters: ALICE and alice are one account.
  return limitedBy(app, limit, (request) => `login-username:${usernameOf(request.body).toLowerCase()}`)
}

/**
 * A preHandler limiting the requests of one user (the subject of the verified access token), whatever the IP: for
 * routes behind accessOnly, on the same counters as the other limits (in Redis with REDIS_URL, shared by instances).
 */
export function perUser (app: FastifyInstance, limit: Limit | undefined, name: string): preHandlerAsyncHookHandler | undefined {
  return limitedBy(app, limit, (request) => `${name}:${accessClaims(request).sub}`)
}

/** A preHandler counting each request under `keyOf(request)`, answering the plugin's own 429 past the limit. */
function limitedBy (app: FastifyInstance, limit: Limit | undefined, keyOf: (request: FastifyRequest) => string): preHandlerAsyncHookHandler | undefined {
  if (limit === undefined) return undefined
  const check = app.createRateLimit({ max: limit.max, timeWindow: limit.perSeconds * 1000, keyGenerator: keyOf })
  return async (request, reply) => {
    const result = await check(request)
    if (result.isAllowed || !result.isExceeded) return
    // The 429 the plugin answers for its own limits: Retry-After, then the same body.
    reply.header('retry-after', result.ttlInSeconds)
    throw new RateLimitedError(String(result.ttlInSeconds))
  }
}

function usernameOf (body: unknown): string {
  const username = typeof body === 'object' && body !== null ? (body as { username?: unknown }).username : undefined
  return typeof username === 'string' ? username : ''
}
