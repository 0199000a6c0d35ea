import type { Redis } from 'ioredis'

function field (info: string, name: string): number {
  const match = new RegExp(`^${name}:([0-9.]+)\\r?$`, 'm').exec(info)
  if (match?.[1] === undefined) throw new Error(`INFO has no ${name}`)
  return Number(match[1])
}

/** Redis's own CPU time (user + system, all its threads) in microseconds since it started. */
export async function redisCpuMicros (client: Redis): Promise<number> {
  const info = await client.info('cpu')
  return Math.round((field(info, 'used_cpu_user') + field(info, 'used_cpu_sys')) * 1e6)
}

/** Bytes Redis has allocated (INFO memory used_memory). */
export async function redisUsedMemory (client: Redis): Promise<number> {
  return field(await client.info('memory'), 'used_memory')
}
