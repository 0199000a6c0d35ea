// A mirror whose table fills up while in use: one redis-server filled with N million revocations, a mirror synced on
// them, then revocations from another writer until the mirror's table asks for room. Prints how many writes that took,
// how long the resync into the larger table took, the peak RSS and the longest event-loop stall meanwhile, and whether
// the mirror holds every entry afterwards. Usage: npx tsx bench/mirror-growth.ts [millions, default 2; above 0.066,
// growInPlaceUpTo's default, or the table grows in place]
import { rmSync } from 'node:fs'
import { Redis } from 'ioredis'
import { MirrorStore, RedisStore } from '../index.js'
import { startRedis } from '../test/helpers/redis-server.js'
import { FILL } from './mirror-scale-keys.js'
import { watchStalls } from './stall-watch.js'

const size = Math.round(Number(process.argv[2] ?? 2) * 1e6)
const server = await startRedis()
const redis = new Redis(server.url)
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0)
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
try {
  for (let from = 1; from <= size; from += 500_000) await redis.eval(FILL, 0, from, Math.min(from + 499_999, size))
  const mirror = new MirrorStore({ client: new Redis(server.url), ownsClient: true, maxEntries: 4 * size })
  let started = Date.now()
  await mirror.start()
  console.log(`synced on ${size} entries in ${Date.now() - started} ms; RSS ${mb(process.memoryUsage().rss)} MB`)
  const writer = new RedisStore({ client: redis })
  const stalls = watchStalls()
  let peakRss = 0
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 20)
  let written = 0
  started = Date.now()
  while (mirror.status().synced && written < 2 * size) {
    await Promise.all(Array.from({ length: 500 }, async () => await writer.revoke({ jti: `more-${written++}`, sub: 'grower' }, 3600)))
  }
  console.log(`out of sync after ${written} more revocations (${Date.now() - started} ms)`)
  started = Date.now()
  while (!mirror.status().synced) await sleep(50)
  const resyncMs = Date.now() - started
  clearInterval(sampler)
  const { longestMs, ownMs } = stalls()
  const held = mirror.status().entries
  console.log(`resynced in ${resyncMs} ms holding ${held} entries (${held === size + written ? 'every one' : `expected ${size + written}`}); ` +
    `peak RSS ${mb(peakRss)} MB, now ${mb(process.memoryUsage().rss)} MB; longest event-loop stall ${longestMs.toFixed(1)} ms (own work ${ownMs.toFixed(1)} ms)`)
  await mirror.close()
} finally {
  redis.disconnect()
  await server.stop()
  rmSync(server.dir, { recursive: true, force: true })
}
