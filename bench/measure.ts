import type { Redis } from 'ioredis'
import { drive, warmUp, type LoadOptions } from './load.js'
import { redisCpuMicros } from './redis-info.js'
import type { ServerProcess } from './server/spawn.js'

/** One server, one round. CPU figures are microseconds per request served in the measured window. */
export interface Sample {
  rps: number
  p50: number
  p99: number
  serverCpu: number
  redisCpu: number
  /** Requests that failed (see LoadResult.failed); CPU per request divides by the successful ones only. */
  failed: number
}

export type Load = Omit<LoadOptions, 'url'>

/**
 * Warms the server up, then reads the child's CPU time and Redis's around one timed autocannon run. Redis is shared,
 * so its delta holds its idle ticks too: a few microseconds a second, well under 0.01 us per request at these rates.
 */
export async function measure (server: ServerProcess, redis: Redis, load: Load): Promise<Sample> {
  await warmUp({ ...load, url: server.url })
  const before = await server.usage()
  const redisBefore = await redisCpuMicros(redis)
  const result = await drive({ ...load, url: server.url })
  const redisAfter = await redisCpuMicros(redis)
  const after = await server.usage()
  const served = after.served - before.served
  if (served < result.requests) throw new Error(`${server.id}: autocannon counted ${result.requests} responses, the server ${served}`)
  return {
    rps: result.requests / result.seconds,
    p50: result.p50,
    p99: result.p99,
    serverCpu: (after.cpuMicros - before.cpuMicros) / served,
    redisCpu: (redisAfter - redisBefore) / served,
    failed: result.failed
  }
}
