import type { FastifyInstance } from 'fastify'
import { bearer } from './app.js'
import { sleep } from './reliability.js'

type Kind = 'revoked' | 'fresh' | 'anonymous'

export interface Sample {
  kind: Kind
  start: number
  end: number
  status: number
  code: unknown
}

/** Requests from `workers` loops until stopped: a revoked token, a valid one, or none (public route) in turn. */
export function loadOn (app: FastifyInstance, tokens: { revoked: string[], fresh: string[] }, workers = 8) {
  const samples: Sample[] = []
  const state = { running: true }
  const kinds: Kind[] = ['revoked', 'fresh', 'anonymous']
  async function worker (offset: number): Promise<void> {
    for (let i = offset; state.running; i++) {
      const kind = kinds[i % kinds.length]!
      const pool = kind === 'anonymous' ? [] : tokens[kind]
      const token = pool[i % Math.max(pool.length, 1)]
      const start = performance.now()
      const response = await app.inject(token === undefined ? { url: '/public' } : { url: '/me', headers: bearer(token) })
      samples.push({ kind, start, end: performance.now(), status: response.statusCode, code: response.json().code })
      // A steady stream of requests, not as many as the CPU allows: a load that saturates a shared machine starves the
      // failover it is watching (and every other test file running beside it). A few milliseconds apart per worker
      // still samples the fault densely; and a store that answers in process (mirror mode) never yields by itself.
      await sleep(2)
    }
  }
  const done = Promise.all(Array.from({ length: workers }, (_, i) => worker(i)))
  return {
    samples,
    async stop (): Promise<Sample[]> {
      state.running = false
      await done
      return samples
    }
  }
}

/** Waits until `fresh` tokens pass again (several in a row), up to `ms`; returns when, or undefined. */
export async function recovery (samples: Sample[], since: number, ms: number): Promise<number | undefined> {
  while (performance.now() - since < ms) {
    const fresh = samples.filter((s) => s.kind === 'fresh' && s.start > since)
    const lastFive = fresh.slice(-5)
    if (lastFive.length === 5 && lastFive.every((s) => s.status === 200)) return lastFive[0]!.end - since
    await sleep(20)
  }
  return undefined
}

/**
 * Milliseconds from `faultAt` until the app follows a failover: a token revoked through `other` (its own connection)
 * is refused by `app`. Undefined when that does not happen within `ms`.
 */
export async function followedAfter (app: FastifyInstance, other: FastifyInstance, sign: () => string, faultAt: number, ms: number): Promise<number | undefined> {
  while (performance.now() - faultAt < ms) {
    await sleep(100)
    const probe = sign()
    if (!await other.revoke(probe).then(() => true, () => false)) continue
    for (let i = 0; i < 20; i++) {
      if ((await app.inject({ url: '/me', headers: bearer(probe) })).statusCode === 401) return performance.now() - faultAt
      await sleep(50)
    }
  }
  return undefined
}
