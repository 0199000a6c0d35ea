import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { jtiKey } from '../lib/keys.js'
import { runConcurrently } from './pool.js'
import { redisUsedMemory } from './redis-info.js'
import type { BenchPayload } from './tokens.js'

const CONCURRENCY = 100
const KEY_PREFIX = 'jwt-revoke:'

/** Revocations per second through app.revoke(payload): one at a time, and with 100 in flight. */
export interface RevokeRate {
  sequential: number
  concurrent: number
}

/** Fresh ids per call (the tag keeps stores and passes apart): a revoke of an id already stored would be no news. */
function payloads (tag: string, count: number, now: number): BenchPayload[] {
  return Array.from({ length: count }, (_, i) => ({ sub: `user-${i % 1000}`, jti: `${tag}-${i}`, iat: now, exp: now + 3600 }))
}

async function rate (app: FastifyInstance, batch: BenchPayload[], concurrency: number): Promise<number> {
  const started = process.hrtime.bigint()
  await runConcurrently(batch.length, concurrency, (i) => app.revoke(batch[i] as BenchPayload))
  return batch.length / (Number(process.hrtime.bigint() - started) / 1e9)
}

export async function revokeRate (app: FastifyInstance, tag: string, count: number, now: number): Promise<RevokeRate> {
  // A short pass first, so neither figure pays for the JIT or the first connection.
  await rate(app, payloads(`${tag}-warm`, Math.min(count, 1000), now), CONCURRENCY)
  return {
    sequential: await rate(app, payloads(`${tag}-seq`, count, now), 1),
    concurrent: await rate(app, payloads(`${tag}-par`, count, now), CONCURRENCY)
  }
}

export interface EntryMemory {
  entries: number
  /** INFO memory used_memory after minus before, divided by entries: keys, values, TTLs and the dicts' growth. */
  bytesPerEntry: number
  /** MEMORY USAGE of one of the keys: the key and value alone. */
  memoryUsage: number
  key: string
}

/** Revokes `entries` tokens shaped like real ones (UUID jti, 'user-N' sub) and measures what Redis grew by. */
export async function entryMemory (app: FastifyInstance, redis: Redis, entries: number): Promise<EntryMemory> {
  const now = Math.floor(Date.now() / 1000)
  const batch = Array.from({ length: entries }, (_, i) => ({ sub: `user-${i % 50_000}`, jti: randomUUID(), iat: now, exp: now + 3600 }))
  const before = await redisUsedMemory(redis)
  await runConcurrently(entries, CONCURRENCY, (i) => app.revoke(batch[i] as BenchPayload))
  const after = await redisUsedMemory(redis)
  const sample = batch[0] as BenchPayload
  const key = jtiKey(KEY_PREFIX, sample.jti, sample.sub)
  const memoryUsage = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
  return { entries, bytesPerEntry: (after - before) / entries, memoryUsage, key }
}
