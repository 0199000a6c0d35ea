import { rmSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { startRedis } from '../test/helpers/redis-server.js'
import { benchApp } from './app.js'
import { compileTree } from './compile.js'
import type { BenchOptions } from './options.js'
import { mirrorPropagation, type Propagation } from './propagation.js'
import { entryMemory, revokeRate, type EntryMemory, type RevokeRate } from './revoke.js'
import { runRounds, summarize, type ServerRow } from './rounds.js'
import { startFleet } from './server/fleet.js'
import { loadPayload, loadTokens, preload, revokedToken, runClock, sign } from './tokens.js'
import type { StoreKind } from './variants.js'

export interface BenchResult {
  options: BenchOptions
  servers: ServerRow[]
  revoke: Array<{ store: StoreKind } & RevokeRate>
  memory: EntryMemory
  /** Mirror mode's propagation delay; absent when mirror mode is not available. */
  propagation?: Propagation
  /** Wall time of the whole run. */
  seconds: number
}

async function withApp<T> (kind: StoreKind, redisUrl: string, use: (app: FastifyInstance) => Promise<T>): Promise<T> {
  const app = await benchApp(kind, redisUrl)
  try {
    await app.ready()
    return await use(app)
  } finally {
    await app.close()
  }
}

/** revoke() throughput per Redis-backed store; the mirror's only when its server ran (it also publishes). */
async function revokeRates (options: BenchOptions, redisUrl: string, now: number, mirror: boolean): Promise<BenchResult['revoke']> {
  const stores: StoreKind[] = mirror ? ['redis', 'redis-pipelined', 'mirror'] : ['redis', 'redis-pipelined']
  const rates: BenchResult['revoke'] = []
  for (const store of stores) {
    rates.push({ store, ...await withApp(store, redisUrl, (app) => revokeRate(app, store, options.revocations, now)) })
  }
  return rates
}

/**
 * The whole run: a fresh redis-server, preloaded through the plugin; every server started in its own process and
 * checked; the load rounds; then revoke() throughput, mirror propagation, and Redis memory per entry (last, as they grow
 * the store).
 */
export async function runBenchmark (options: BenchOptions, log: (line: string) => void): Promise<BenchResult> {
  const started = Date.now()
  const redisServer = await startRedis()
  const redis = new Redis(redisServer.url)
  const tree = compileTree()
  try {
    const now = runClock()
    await withApp('redis-pipelined', redisServer.url, (app) => preload(app, now))
    log('Redis preloaded')
    const tokens = loadTokens(now)
    const checkTokens = { live: sign(loadPayload(now, 0)), revoked: revokedToken(now) }
    const spawnOptions = { childPath: tree.path('bench/server/child.ts'), redisUrl: redisServer.url, now, profileDir: options.profileDir }
    // Mirror propagation needs a second mirror-mode server: it starts with the others (a start costs seconds).
    const fleet = await startFleet(options.servers, spawnOptions, checkTokens, options.servers.includes('mirror') ? ['mirror'] : [])
    log(`servers up: ${[...fleet.running.keys()].join(', ')}; not available: ${[...fleet.unavailable.keys()].join(', ') || 'none'}`)
    let servers: ServerRow[]
    let propagation: Propagation | undefined
    try {
      const load = { tokens, connections: options.connections, duration: options.duration, rate: options.rate }
      const rounds = await runRounds(fleet, redis, load, options.rounds, log)
      servers = summarize(options.servers, rounds, fleet.unavailable)
      const mirrors = [fleet.running.get('mirror'), ...fleet.spares].flatMap((server) => server ?? [])
      if (mirrors.length === 2) {
        log('mirror propagation')
        propagation = await mirrorPropagation(mirrors, redisServer.url, options.propagations, now)
      }
    } finally {
      await fleet.close()
    }
    log('revoke() throughput')
    const revoke = await revokeRates(options, redisServer.url, now, fleet.running.has('mirror'))
    log(`Redis memory for ${options.entries} revocations`)
    const memory = await withApp('redis-pipelined', redisServer.url, (app) => entryMemory(app, redis, options.entries))
    return { options, servers, revoke, memory, ...(propagation === undefined ? {} : { propagation }), seconds: (Date.now() - started) / 1000 }
  } finally {
    tree.remove()
    redis.disconnect()
    await redisServer.stop()
    rmSync(redisServer.dir, { recursive: true, force: true })
  }
}
