import { randomUUID } from 'node:crypto'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { Redis } from 'ioredis'
import jwtRevoke, { type JwtRevokeOptions } from '../../index.js'
import { listened, type RedisServer, startRedisFor } from './redis-server.js'

export const SECRET = 'a-test-secret-that-is-long-enough-for-hs256'

export interface Claims {
  sub?: unknown
  jti?: unknown
  [claim: string]: unknown
}

export interface TestApp {
  app: FastifyInstance
  /** Signs a token with a fresh jti (unless claims set one), sub 'user-1' and a 1 h expiry by default. */
  sign (claims?: Claims, options?: { expiresIn?: number | string, noTimestamp?: boolean }): string
}

/** The routes every test app has: a public one, authenticated ones (authenticate, request.jwtVerify()), and logout. */
function addRoutes (app: FastifyInstance): void {
  app.get('/public', async () => ({ ok: true }))
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user)
  app.get('/verified', async (request) => await request.jwtVerify())
  const logout = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await request.revokeToken()
    return reply.code(204).send()
  }
  app.post('/logout', { onRequest: [app.authenticate] }, logout)
  app.post('/logout-raw', logout)
}

export async function buildApp (
  plugin: JwtRevokeOptions = {},
  jwt: Partial<FastifyJWTOptions> = {},
  server: FastifyServerOptions = {}
): Promise<TestApp> {
  const app = Fastify(server)
  await app.register(fastifyJwt, { secret: SECRET, ...jwt })
  await app.register(jwtRevoke, plugin)
  addRoutes(app)
  await app.ready()
  const sign: TestApp['sign'] = (claims = {}, options = {}) => app.jwt.sign(
    { sub: 'user-1', jti: randomUUID(), ...claims },
    { expiresIn: options.expiresIn ?? 3600, ...(options.noTimestamp === true ? { noTimestamp: true } : {}) }
  )
  return { app, sign }
}

/**
 * A store to run a suite against: the embedded memory store, or a real redis-server started for the test, reached
 * through a client that sends one MGET per check ('redis') or one that auto-pipelines, so the store merges each
 * event-loop turn's checks into one MGET ('redis-pipelined').
 */
export interface StoreVariant {
  name: 'memory' | 'redis' | 'redis-pipelined'
  /** Plugin options that select this store (a new client per call for Redis; closed in teardown). */
  options (extra?: JwtRevokeOptions): JwtRevokeOptions
  redis?: RedisServer
  /** A direct client to the Redis server (Redis variants only). */
  client?: Redis
}

interface TapLike { teardown (fn: () => unknown): void }

export async function storeVariants (t: TapLike): Promise<StoreVariant[]> {
  const clients: Redis[] = []
  t.teardown(async () => {
    await Promise.all(clients.map(async (c) => c.status === 'end' ? undefined : await c.quit().catch(() => c.disconnect())))
  })
  // Each Redis variant has a server of its own, so a suite may count the keys it left.
  const redisVariant = async (name: 'redis' | 'redis-pipelined', enableAutoPipelining: boolean): Promise<StoreVariant> => {
    const server = await startRedisFor(t)
    const client = listened(new Redis(server.url))
    clients.push(client)
    return {
      name,
      redis: server,
      client,
      options: (extra = {}) => {
        const borrowed = listened(new Redis(server.url, { maxRetriesPerRequest: 1, enableAutoPipelining }))
        clients.push(borrowed)
        // A deadline of 2 s, not the default 200 ms: these suites test what is checked, not how fast, and a busy CI
        // machine (2 cores, clusters and other suites beside) has missed 200 ms. Suites that test the deadline set theirs.
        return { store: 'redis', redis: borrowed, storeTimeout: 2000, ...extra }
      }
    }
  }
  return [
    { name: 'memory', options: (extra = {}) => ({ store: 'memory', ...extra }) },
    await redisVariant('redis', false),
    await redisVariant('redis-pipelined', true)
  ]
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** A logger configuration that collects the JSON lines Fastify logs at `level` and above. */
export function collectLogs (level = 'warn'): { logger: FastifyServerOptions['logger'], lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }
  return { logger: { level, stream }, lines }
}
