import { once } from 'node:events'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import jwtRevoke, { type JwtRevokeOptions } from '../index.js'
import { SECRET } from './tokens.js'
import type { StoreKind } from './variants.js'

async function storeOptions (kind: StoreKind, redisUrl: string, app: FastifyInstance): Promise<JwtRevokeOptions> {
  if (kind === 'memory') return { store: 'memory' }
  if (kind === 'mirror') return { store: 'redis', mode: 'mirror', redis: redisUrl }
  // A borrowed client (the only way to set enableAutoPipelining): the plugin leaves it open, so we close it.
  const client = new Redis(redisUrl, kind === 'redis-pipelined' ? { enableAutoPipelining: true } : {})
  app.addHook('onClose', async () => { await client.quit() })
  // Connected before the first check: on a busy machine, connecting can outlast the plugin's storeTimeout (a 503).
  if (client.status !== 'ready') await once(client, 'ready')
  return { store: 'redis', redis: client }
}

/** Fastify with @fastify/jwt (HS256, the benchmark's secret) and, given a store kind, this plugin on that store. */
export async function benchApp (kind: StoreKind | undefined, redisUrl: string): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  if (kind !== undefined) await app.register(jwtRevoke, await storeOptions(kind, redisUrl, app))
  return app
}
