import type { FastifyInstance } from 'fastify'
import { Cluster, type Redis } from 'ioredis'
import { MemoryStore, RedisStore } from '../../index.js'

/** Keys in a Redis server, or summed over a cluster's primaries. */
export async function keyCount (client: Redis | Cluster): Promise<number> {
  if (client instanceof Cluster) {
    const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
    return sizes.reduce((sum, size) => sum + size, 0)
  }
  return await client.dbsize()
}

/** How many entries the app's deny-list holds, whatever its store: the memory store's size, or the keys in Redis. */
export async function denyListSize (app: FastifyInstance): Promise<number> {
  const store = app.jwtRevoke.store
  if (store instanceof MemoryStore) return store.size
  if (store instanceof RedisStore) return await keyCount(store.client)
  throw new Error('denyListSize: unknown store')
}

/** The outcome of a promise and how long it took to settle, in milliseconds. */
export async function timed<T> (work: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const start = performance.now()
  const value = await work()
  return { value, ms: performance.now() - start }
}

/** The rejection of a promise that must reject (fails loudly when it resolves). */
export async function rejection (promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a rejection, but the promise resolved')
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A write a test needs made before the fault it is about, retried while it misses the test's short storeTimeout (a
 * loaded CI machine, the plugin's connection still being made): only its eventual success matters, and a revocation
 * written twice is the same revocation.
 */
export async function beforeTheFault<T> (write: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write()
    } catch (error) {
      if (attempt >= attempts) throw error
      await sleep(50)
    }
  }
}

/** Runs `count` jobs, `concurrency` at a time, in order of index. */
export async function inBatches<T> (count: number, concurrency: number, job: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = []
  for (let start = 0; start < count; start += concurrency) {
    const size = Math.min(concurrency, count - start)
    results.push(...await Promise.all(Array.from({ length: size }, (_, i) => job(start + i))))
  }
  return results
}
