// Mirror mode at scale: for each size, fills one redis-server with that many live revocations (a Lua loop of
// SET ... EX, the shape RedisStore writes), then measures a mirror in a process of its own (mirror-scale-child.ts):
// first sync time, RSS per entry steady and at the peaks of the first sync and of a resync after its subscriber is
// killed, check cost against an empty mirror in the same process, event-loop stalls (the longest, and the longest of
// the process's own work: see stall-watch.ts), a full GC, and that checks go on
// (answered by Redis) and writes are kept while it resyncs. Also Redis's memory per revocation.
// Usage: npx tsx bench/mirror-scale.ts [node flags for the mirror's process] [sizes in millions, default 1 5 10]
// e.g. --max-semi-space-size=1 10: a V8 flag (any argument starting with --) is passed to the mirror's process.
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { rmSync } from 'node:fs'
import { Redis } from 'ioredis'
import { startRedis } from '../test/helpers/redis-server.js'
import { redisUsedMemory } from './redis-info.js'
import { FILL } from './mirror-scale-keys.js'

const args = process.argv.slice(2)
const nodeFlags = args.filter((arg) => arg.startsWith('--'))
const sizeArgs = args.filter((arg) => !arg.startsWith('--'))
const sizes = (sizeArgs.length > 0 ? sizeArgs.map(Number) : [1, 5, 10]).map((millions) => Math.round(millions * 1e6))
const server = await startRedis()
const redis = new Redis(server.url)
const mb = (bytes: number): string => (bytes / 1e6).toFixed(0)
/** The longest stall, and the longest one during which the process ran (its own work; see stall-watch.ts). */
const stall = (r: Record<string, number | boolean>, phase: string): string =>
  `${(r[`${phase}MaxDelayMs`] as number).toFixed(1)} ms (own work ${(r[`${phase}OwnDelayMs`] as number).toFixed(1)} ms)`
try {
  const emptyMemory = await redisUsedMemory(redis)
  let filled = 0
  for (const size of sizes) {
    for (let from = filled + 1; from <= size; from += 500_000) await redis.eval(FILL, 0, from, Math.min(from + 499_999, size))
    filled = size
    const redisBytes = (await redisUsedMemory(redis) - emptyMemory) / size
    const load = loadavg()[0]?.toFixed(2)
    const output = execFileSync(process.execPath, [...nodeFlags, '--expose-gc', '--import', 'tsx', 'bench/mirror-scale-child.ts', server.url, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 })
    const r = JSON.parse(output.trim().split('\n').pop() as string) as Record<string, number | boolean>
    const n = r.entries as number
    console.log(`--- ${n / 1e6} M live revocations (load average ${load} before the run${nodeFlags.length > 0 ? `; the mirror's process runs with ${nodeFlags.join(' ')}` : ''})`)
    console.log(`first sync: ${((r.syncMs as number) / 1000).toFixed(1)} s (${((r.syncMs as number) / (n / 1e6) / 1000).toFixed(2)} s per million); longest event-loop stall meanwhile ${stall(r, 'first')}`)
    console.log(`RSS: ${mb(r.steadyRss as number)} MB steady (${((r.steadyRss as number) / n).toFixed(1)} B/entry; ${(((r.steadyRss as number) - (r.baseRss as number)) / n).toFixed(1)} B/entry above the ${mb(r.baseRss as number)} MB process before the load), ` +
      `peak ${mb(r.firstPeakRss as number)} MB during the first sync (${((r.firstPeakRss as number) / n).toFixed(1)} B/entry), ${mb(r.resyncPeakRss as number)} MB during the resync (${((r.resyncPeakRss as number) / n).toFixed(1)} B/entry); heap ${mb(r.heapUsed as number)} MB`)
    console.log(`check of a valid token: ${(r.checkNsFull as number).toFixed(0)} ns with ${n / 1e6} M entries, ${(r.checkNsEmpty as number).toFixed(0)} ns empty (x${((r.checkNsFull as number) / (r.checkNsEmpty as number)).toFixed(2)}); a revoked one confirmed by Redis: ${String(r.confirmed)}`)
    console.log(`an authenticated request (app.inject, HS256 + the check): ${((r.requestNsFull as number) / 1000).toFixed(2)} µs with ${n / 1e6} M entries, ${((r.requestNsEmpty as number) / 1000).toFixed(2)} µs empty (x${((r.requestNsFull as number) / (r.requestNsEmpty as number)).toFixed(3)})`)
    console.log(`steady 10 s (${r.steadyInSync === true ? 'in sync throughout' : 'NOT in sync throughout: the mirror resynced'}): longest event-loop stall ${stall(r, 'steady')} (sweeps in slices); a forced full GC took ${(r.gcMs as number).toFixed(1)} ms ` +
      `(the same process before the load: ${stall(r, 'idle')}, GC ${(r.idleGcMs as number).toFixed(1)} ms)`)
    console.log(`resync after the subscriber was killed: out of sync ${((r.resyncMs as number) / 1000).toFixed(1)} s (${((r.resyncMs as number) / (n / 1e6) / 1000).toFixed(2)} s per million), longest stall ${stall(r, 'resync')}; ` +
      `${String(r.checksDuringResync)} checks answered meanwhile (${String(r.wrongDuringResync)} wrong, ${String(r.failedDuringResync)} failed); ${String(r.writesDuringResync)} revocations made during it and at the switch, ${String(r.missedAfterResync)} missed after`)
    console.log(`Redis: ${redisBytes.toFixed(1)} bytes of used_memory per revocation`)
  }
} finally {
  redis.disconnect()
  await server.stop()
  rmSync(server.dir, { recursive: true, force: true })
}
