import { randomUUID } from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildAuthServer, type AuthServerOptions } from '../../examples/auth-server/app.js'
import type { Limit, RateLimits } from '../../examples/auth-server/rate-limits.js'
import { startRedisFor } from './redis-server.js'

export const SECRET = 'an-example-test-secret-that-is-long-enough'
export const PASSWORD = 'correct horse battery'
// argon2 is slow on purpose; the tests hash hundreds of times, so they use a cheap cost (never do this in production).
export const CHEAP_HASHING = { memoryCost: 1024, timeCost: 2, parallelism: 1 }

// The suites send hundreds of requests from one address within seconds (20 refresh races in a row...): they run with
// limits they never reach. The rate-limit tests set low ones explicitly.
const UNREACHED: Limit = { max: 1_000_000, perSeconds: 60 }
export const UNREACHED_LIMITS: RateLimits = {
  loginPerIp: UNREACHED,
  loginPerUsername: UNREACHED,
  passwordPerIp: UNREACHED,
  passwordPerUser: UNREACHED,
  register: UNREACHED,
  refresh: UNREACHED,
  revoke: UNREACHED
}

export interface Variant {
  name: 'memory' | 'redis'
  redisUrl?: string
}

interface Teardown { teardown (fn: () => unknown): void }

/** The two stores every suite runs against: memory, and a real redis-server started for this test file. */
export async function variants (t: Teardown): Promise<Variant[]> {
  const server = await startRedisFor(t)
  return [{ name: 'memory' }, { name: 'redis', redisUrl: server.url }]
}

let apps = 0

/** A unique key prefix, so apps sharing one redis-server never see each other's keys (unless given the same one). */
export function uniquePrefix (): string {
  return `test-${process.pid}-${apps++}:`
}

/** The example app on the variant's store, ready, closed when the test ends. */
export async function buildExample (t: Teardown, variant: Variant, options: Partial<AuthServerOptions> = {}): Promise<FastifyInstance> {
  const app = await buildAuthServer({
    jwtSecret: SECRET,
    hashing: CHEAP_HASHING,
    redisUrl: variant.redisUrl,
    keyPrefix: uniquePrefix(),
    // 2 s, not the plugin's 200 ms: these tests check the example's behaviour, and a busy CI machine has missed 200 ms.
    storeTimeout: 2000,
    ...options,
    rateLimits: options.rateLimits === false ? false : { ...UNREACHED_LIMITS, ...options.rateLimits }
  })
  t.teardown(() => app.close())
  await app.ready()
  return app
}

export interface Pair {
  accessToken: string
  refreshToken: string
  tokenType: string
  expiresIn: number
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** A fresh username, so tests sharing an app never collide. */
export function newName (): string {
  return `user-${randomUUID().slice(0, 8)}`
}

/** Thin request helpers over app.inject: each returns the raw response, the test asserts on it. */
export class Client {
  readonly app: FastifyInstance

  constructor (app: FastifyInstance) {
    this.app = app
  }

  post (url: string, payload?: object, token?: string, extra: Partial<InjectOptions> = {}): Promise<LightMyRequestResponse> {
    return this.app.inject({
      method: 'POST', url, ...(payload === undefined ? {} : { payload }), headers: token === undefined ? {} : bearer(token), ...extra
    })
  }

  get (url: string, token?: string): Promise<LightMyRequestResponse> {
    return this.app.inject({ method: 'GET', url, headers: token === undefined ? {} : bearer(token) })
  }

  delete (url: string, token: string): Promise<LightMyRequestResponse> {
    return this.app.inject({ method: 'DELETE', url, headers: bearer(token) })
  }

  register (username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    return this.post('/auth/register', { username, password })
  }

  login (username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
    return this.post('/auth/login', { username, password })
  }

  refresh (refreshToken: string): Promise<LightMyRequestResponse> {
    return this.post('/auth/refresh', { refreshToken })
  }

  me (accessToken: string): Promise<LightMyRequestResponse> {
    return this.get('/me', accessToken)
  }

  /** Registers a new user and logs in; throws when either step fails (a setup step, not an assertion). */
  async signup (username = newName()): Promise<{ username: string, id: string, pair: Pair }> {
    const registered = await this.register(username)
    if (registered.statusCode !== 201) throw new Error(`register: ${registered.statusCode} ${registered.body}`)
    const pair = await this.loginPair(username)
    return { username, id: registered.json<{ id: string }>().id, pair }
  }

  async loginPair (username: string, password = PASSWORD): Promise<Pair> {
    const response = await this.login(username, password)
    if (response.statusCode !== 200) throw new Error(`login: ${response.statusCode} ${response.body}`)
    return response.json<Pair>()
  }
}
