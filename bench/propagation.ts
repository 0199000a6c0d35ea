import { benchApp } from './app.js'
import { statusOf } from './server/fleet.js'
import type { ServerProcess } from './server/spawn.js'
import { percentile } from './stats.js'
import { sign, type BenchPayload } from './tokens.js'
import type { StoreKind } from './variants.js'

/** Milliseconds from revoke() resolving on one instance to the first 401 from another. */
export interface Propagation {
  samples: number
  p50: number
  p99: number
  max: number
}

const GIVE_UP_MS = 5000

/** Asks back to back until refused. Each answer costs one loopback round trip: that is the figure's resolution. */
async function refusedAfter (server: ServerProcess, token: string, since: number): Promise<number> {
  for (;;) {
    const status = await statusOf(server.url, token)
    const elapsed = performance.now() - since
    if (status === 401) return elapsed
    if (status !== 200 || elapsed > GIVE_UP_MS) throw new Error(`${server.id}: still ${status} ${elapsed.toFixed(0)} ms after revoke()`)
  }
}

/**
 * Mirror mode's staleness, with three instances: this process revokes (A), two mirror-mode server children (B, C) are
 * asked until they refuse. One revocation at a time, each a token both had just accepted. A is a mirror-mode instance
 * unless `revokerKind` names another store (a lookup-mode instance writes the same way: mirrors must hear it too).
 */
export async function mirrorPropagation (
  servers: ServerProcess[], redisUrl: string, count: number, now: number, revokerKind: StoreKind = 'mirror'
): Promise<Propagation> {
  const revoker = await benchApp(revokerKind, redisUrl)
  try {
    await revoker.ready()
    const delays: number[] = []
    for (let i = 0; i < count; i++) {
      const payload: BenchPayload = { sub: `user-${i % 100}`, jti: `propagation-${revokerKind}-${i}`, iat: now, exp: now + 3600 }
      const token = sign(payload)
      for (const server of servers) {
        if (await statusOf(server.url, token) !== 200) throw new Error(`${server.id} refused a token before its revocation`)
      }
      await revoker.revoke(payload)
      const revokedAt = performance.now()
      delays.push(...await Promise.all(servers.map((server) => refusedAfter(server, token, revokedAt))))
    }
    const sorted = Float64Array.from(delays).sort()
    return { samples: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: percentile(sorted, 1) }
  } finally {
    await revoker.close()
  }
}
