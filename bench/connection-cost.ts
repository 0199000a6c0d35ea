// What the plugin's own connection costs and buys (issue 12): `npx tsx bench/connection-cost.ts`. A small targeted
// measurement, not part of the benchmark. It compares the plugin as shipped (checks on a duplicate of the borrowed
// client) with the same RedisStore given the borrowed client itself as a custom store (checks share the app's
// connection): Redis memory per connection, register time, and checks while the app's connection is busy in BLPOP.
import { randomUUID } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import jwtRevoke, { RedisStore, type JwtRevokeOptions } from '../index.js'
import { startRedis } from '../test/helpers/redis-server.js'
import { redisUsedMemory } from './redis-info.js'

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN

async function app (options: JwtRevokeOptions): Promise<FastifyInstance> {
  const server = Fastify()
  await server.register(fastifyJwt, { secret: 'a-secret-long-enough-for-a-benchmark-run' })
  await server.register(jwtRevoke, options)
  server.get('/me', { onRequest: [server.authenticate] }, async () => ({ ok: true }))
  await server.ready()
  return server
}

const redis = await startRedis()
const borrowed = new Redis(redis.url)
const admin = new Redis(redis.url)
try {
  const variants: Record<string, () => JwtRevokeOptions> = {
    'own connection (duplicate)': () => ({ store: 'redis', redis: borrowed }),
    'shared (borrowed client)': () => ({ store: new RedisStore({ client: borrowed }) })
  }
  // 1. Redis memory per idle connection: used_memory before and after 100 more duplicates.
  const before = await redisUsedMemory(admin)
  const extra = Array.from({ length: 100 }, () => borrowed.duplicate())
  await Promise.all(extra.map((client) => client.ping()))
  const perConnection = (await redisUsedMemory(admin) - before) / extra.length
  extra.forEach((client) => client.disconnect())
  console.log(`Redis memory per extra connection: ${Math.round(perConnection)} bytes`)

  for (const [name, options] of Object.entries(variants)) {
    // 2. Register time: the duplicate connects (and its handshake runs) at register.
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      const server = await app(options())
      await server.inject({ url: '/me', headers: { authorization: `Bearer ${server.jwt.sign({ sub: 'u', jti: randomUUID() })}` } })
      times.push(performance.now() - started)
      await server.close()
    }
    // 3. Checks while the app's own connection waits in a 500 ms BLPOP.
    const server = await app({ ...options(), storeTimeout: 200 })
    const token = server.jwt.sign({ sub: 'u', jti: randomUUID() }, { expiresIn: 3600 })
    await server.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
    const blocked = borrowed.blpop('nothing-' + randomUUID(), 0.5)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const latencies: number[] = []
    let failed = 0
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      const response = await server.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
      latencies.push(performance.now() - started)
      if (response.statusCode !== 200) failed++
    }
    await blocked
    await server.close()
    console.log(`${name}: register + first check median ${median(times).toFixed(1)} ms; ` +
      `during the app's BLPOP: check median ${median(latencies).toFixed(1)} ms, ${failed}/20 answered 503`)
  }
} finally {
  borrowed.disconnect()
  admin.disconnect()
  await redis.stop()
}
