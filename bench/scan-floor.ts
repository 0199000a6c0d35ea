// What a mirror's load costs Redis, against the floor of a bare SCAN of the same keys: wall time, Redis CPU and this
// process's CPU per million keys. A sync cannot be faster than Redis can enumerate its keys; this says how far the
// load is from that, and the longest event-loop stall of each (a bare loop of ioredis replies stalls too: V8's
// scavenges of the young generation). Usage: npx tsx bench/scan-floor.ts [millions, default 1]
// Node flags go before tsx, e.g. node --max-semi-space-size=1 --import tsx bench/scan-floor.ts 1
import { rmSync } from 'node:fs'
import { Redis } from 'ioredis'
import { scanEntries } from '../lib/stores/redis-scan.js'
import { startRedis } from '../test/helpers/redis-server.js'
import { FILL } from './mirror-scale-keys.js'
import { redisCpuMicros } from './redis-info.js'
import { watchStalls } from './stall-watch.js'

const size = Math.round(Number(process.argv[2] ?? 1) * 1e6)
const server = await startRedis()
const redis = new Redis(server.url)

async function measure (name: string, run: () => Promise<number>): Promise<void> {
  const redisBefore = await redisCpuMicros(redis)
  const cpuBefore = process.cpuUsage()
  const stalls = watchStalls()
  const started = performance.now()
  const keys = await run()
  const wall = (performance.now() - started) / 1000
  const { longestMs, ownMs } = stalls()
  const redisCpu = (await redisCpuMicros(redis) - redisBefore) / 1e6
  const cpu = process.cpuUsage(cpuBefore)
  const perMillion = (seconds: number): string => (seconds / (keys / 1e6)).toFixed(2)
  console.log(`${name}: ${keys} keys; per million: ${perMillion(wall)} s of wall time, ${perMillion(redisCpu)} s of Redis CPU, ${perMillion((cpu.user + cpu.system) / 1e6)} s of this process's CPU; longest event-loop stall ${longestMs.toFixed(1)} ms (own work ${ownMs.toFixed(1)} ms)`)
}

try {
  for (let from = 1; from <= size; from += 500_000) await redis.eval(FILL, 0, from, Math.min(from + 499_999, size))
  for (let round = 0; round < 2; round++) {
    await measure('bare SCAN ... MATCH ... COUNT 1000, keys only', async () => {
      let cursor = '0'
      let keys = 0
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', 'jwt-revoke:{*', 'COUNT', 1000)
        cursor = next
        keys += found.length
      } while (cursor !== '0')
      return keys
    })
    // What a load that read expiries later (a second pass) would be left with.
    await measure('SCAN with the next step always in flight (as the load sends them), keys only', async () => {
      const step = async (cursor: string): Promise<[string, string[]]> => await redis.scan(cursor, 'MATCH', 'jwt-revoke:{*', 'COUNT', 1000)
      let keys = 0
      let next = step('0')
      for (;;) {
        const [cursor, found] = await next
        if (cursor !== '0') next = step(cursor)
        keys += found.length
        if (cursor === '0') return keys
      }
    })
    await measure('the mirror\'s load (SCAN step with PTTL and cutoffs in Lua), entries parsed, none kept', async () => await scanEntries(redis, 'jwt-revoke:', () => {}))
  }
} finally {
  redis.disconnect()
  await server.stop()
  rmSync(server.dir, { recursive: true, force: true })
}
