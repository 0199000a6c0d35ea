import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import { benchApp } from '../app.js'
import { preload } from '../tokens.js'
import { storeKind, type ServerId } from '../variants.js'

/** A built server and the number of /me responses it has handled (the divisor of its CPU time). */
export interface BenchServer {
  app: FastifyInstance
  served (): number
}

async function bareJwtVerify (request: FastifyRequest): Promise<void> {
  await request.jwtVerify()
}

/** The control for (2): same verify, plus the one event-loop turn an async store lookup costs. */
async function bareJwtVerifyThenYield (request: FastifyRequest): Promise<void> {
  await request.jwtVerify()
  await new Promise(setImmediate)
}

/** (1) has no user to return: it sends a payload of the same shape and size as the others'. */
const ANONYMOUS = { sub: 'user-00', jti: 'live-000', iat: 1764460000, exp: 1764463600 }

/**
 * Builds one variant. Every variant serves GET /me behind the same @fastify/jwt (HS256, same secret); they differ only
 * in the route's onRequest hook and, for (3) to (6), the plugin and its store.
 */
export async function buildServer (id: ServerId, redisUrl: string, now: number): Promise<BenchServer> {
  const kind = storeKind(id)
  const app = await benchApp(kind, redisUrl)
  const onRequest: onRequestHookHandler | undefined = kind !== undefined
    ? app.authenticate
    : id === 'jwt' ? bareJwtVerify : id === 'jwt-async' ? bareJwtVerifyThenYield : undefined
  let served = 0
  // The counter is the only per-request work the benchmark adds, and every variant pays it.
  const handler = id === 'none'
    ? async () => { served++; return ANONYMOUS }
    : async (request: FastifyRequest) => { served++; return request.user }
  app.get('/me', onRequest === undefined ? {} : { onRequest: [onRequest] }, handler)
  await app.ready()
  // The Redis variants and the mirror share the Redis the parent preloaded; the memory store is this process's own.
  if (kind === 'memory') await preload(app, now)
  return { app, served: () => served }
}
