// A small, targeted run of two of the benchmark's figures, for changes to how writes reach mirrors: propagation delay
// (from a mirror-mode and from a lookup-mode revoker to two mirror-mode server children) and Redis memory per
// revocation, and lookup-mode revoke() throughput. No load rounds. Usage: npx tsx bench/mirror-figures.ts [propagations] [entries]   (default 200 20000)
import { rmSync } from 'node:fs'
import { Redis } from 'ioredis'
import { startRedis } from '../test/helpers/redis-server.js'
import { benchApp } from './app.js'
import { compileTree } from './compile.js'
import { mirrorPropagation } from './propagation.js'
import { entryMemory, revokeRate } from './revoke.js'
import { startFleet } from './server/fleet.js'
import { loadPayload, preload, revokedToken, runClock, sign } from './tokens.js'
import type { StoreKind } from './variants.js'

const propagations = Number(process.argv[2] ?? 200)
const entries = Number(process.argv[3] ?? 20_000)
const server = await startRedis()
const redis = new Redis(server.url)
const tree = compileTree()
try {
  const now = runClock()
  const loader = await benchApp('redis-pipelined', server.url)
  await loader.ready()
  await preload(loader, now)
  const checkTokens = { live: sign(loadPayload(now, 0)), revoked: revokedToken(now) }
  const fleet = await startFleet(['mirror'], { childPath: tree.path('bench/server/child.ts'), redisUrl: server.url, now }, checkTokens, ['mirror'])
  try {
    const mirrors = [fleet.running.get('mirror'), ...fleet.spares].flatMap((child) => child ?? [])
    if (mirrors.length !== 2) throw new Error(`mirror servers: ${[...fleet.unavailable.values()].join('; ')}`)
    for (const revoker of ['mirror', 'redis'] as StoreKind[]) {
      try {
        const figure = await mirrorPropagation(mirrors, server.url, propagations, now, revoker)
        console.log(`propagation from a ${revoker === 'redis' ? 'lookup' : revoker}-mode revoker: ${figure.samples} samples, p50 ${figure.p50.toFixed(2)} ms, p99 ${figure.p99.toFixed(2)} ms, max ${figure.max.toFixed(2)} ms`)
      } catch (error) {
        console.log(`propagation from a ${revoker === 'redis' ? 'lookup' : revoker}-mode revoker: none (${(error as Error).message})`)
      }
    }
  } finally {
    await fleet.close()
  }
  const memory = await entryMemory(loader, redis, entries)
  console.log(`Redis memory per revocation (lookup-mode revoke(), ${memory.entries} UUID jtis): ${memory.bytesPerEntry.toFixed(1)} bytes (INFO used_memory delta); MEMORY USAGE of one key: ${memory.memoryUsage} bytes`)
  // What publishing costs a lookup-mode writer: revoke() throughput, one at a time and 100 in flight. Measured after
  // the memory figure, whose used_memory delta its keys would otherwise change (hash table resizes).
  const lookup = await benchApp('redis', server.url)
  await lookup.ready()
  const rate = await revokeRate(lookup, 'lookup', 5000, now)
  console.log(`lookup-mode revoke(): ${Math.round(rate.sequential)}/s one at a time, ${Math.round(rate.concurrent)}/s with 100 in flight (5000 each)`)
  await lookup.close()
  await loader.close()
} finally {
  tree.remove()
  redis.disconnect()
  await server.stop()
  rmSync(server.dir, { recursive: true, force: true })
}
