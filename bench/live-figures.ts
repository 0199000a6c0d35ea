// The figures of open connections (issue 21). Usage: node --expose-gc --import tsx bench/live-figures.ts [samples]
//  1. from revoke() resolving on instance A (this process, lookup mode) to the listener of a watched token on
//     instance B (a child process, lookup then mirror mode), on one loopback redis-server: p50, p99, max;
//  2. heap bytes per watched token at 10 000 watches (memory store, app.jwtRevoke.watch; claims objects included);
//  3. heap after 100 000 watches opened and closed, against before.
import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtRevoke, { type JwtRevokeOptions } from '../index.js'
import { startRedis } from '../test/helpers/redis-server.js'
import { percentile } from './stats.js'

const samples = Number(process.argv[2] ?? 500)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc --import tsx bench/live-figures.ts')
const wallNow = (): number => performance.timeOrigin + performance.now()

async function appWith (options: JwtRevokeOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: 'bench-live-secret-that-is-long-enough' })
  await app.register(jwtRevoke, options)
  await app.ready()
  return app
}

type ChildMessage = { ready: true } | { watched: string } | { fired: string, at: number }

function nextMessage (child: ChildProcess, accept: (message: ChildMessage) => boolean): Promise<ChildMessage> {
  return new Promise((resolve) => {
    const onMessage = (message: ChildMessage): void => {
      if (!accept(message)) return
      child.off('message', onMessage)
      resolve(message)
    }
    child.on('message', onMessage)
  })
}

async function latency (redisUrl: string, mode: 'lookup' | 'mirror'): Promise<string> {
  const a = await appWith({ store: 'redis', redis: redisUrl })
  const child = fork('bench/live-child.ts', [redisUrl, mode], { execArgv: ['--import', 'tsx'] })
  try {
    await nextMessage(child, (message) => 'ready' in message)
    const delays: number[] = []
    let early = 0
    const now = Math.floor(Date.now() / 1000)
    for (let i = 0; i < samples; i++) {
      const payload = { jti: randomUUID(), sub: `user-${i % 100}`, iat: now, exp: now + 3600 }
      const watched = nextMessage(child, (message) => 'watched' in message && message.watched === payload.jti)
      child.send({ watch: payload })
      await watched
      const fired = nextMessage(child, (message) => 'fired' in message && message.fired === payload.jti)
      await a.revoke(payload)
      const resolvedAt = wallNow()
      const { at } = await fired as { at: number }
      // B may hear the write before A has read the reply of the script that published it: that is no delay at all.
      if (at < resolvedAt) early++
      delays.push(Math.max(0, at - resolvedAt))
    }
    const sorted = Float64Array.from(delays).sort()
    return `revoke() on A (lookup) -> listener on B (${mode}): ${samples} samples, p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms, max ${percentile(sorted, 1).toFixed(2)} ms (${early} heard before revoke() resolved on A, counted 0)`
  } finally {
    child.send({ close: true })
    await new Promise((resolve) => child.once('exit', resolve))
    await a.close()
  }
}

function heapUsed (): number {
  (gc as () => void)()
  ;(gc as () => void)()
  return process.memoryUsage().heapUsed
}

async function settled (app: FastifyInstance): Promise<void> {
  while (app.jwtRevoke.watchStatus().pending > 0) await new Promise((resolve) => setImmediate(resolve))
}

const nowSeconds = Math.floor(Date.now() / 1000)
const payloads = (count: number, subjects: number): Array<Record<string, unknown>> =>
  Array.from({ length: count }, (_, i) => ({ jti: randomUUID(), sub: `user-${i % subjects}`, iat: nowSeconds, exp: nowSeconds + 3600 }))

/**
 * Heap bytes per watch: 10 000 watches on one app, the payloads made (and kept) beforehand. Median of three runs.
 * One app for every run: a closed app's garbage is not all collectable at once, and would blur the figure.
 */
async function bytesPerWatch (app: FastifyInstance, subjects: number): Promise<number> {
  const figures: number[] = []
  for (let run = 0; run < 3; run++) {
    const batch = payloads(10_000, subjects)
    await settled(app)
    const before = heapUsed()
    const stops = batch.map((payload) => app.jwtRevoke.watch(payload, () => {}))
    await settled(app)
    const during = heapUsed()
    figures.push((during - before) / 10_000)
    for (const stop of stops) stop()
    // The async function's frame would keep the last iteration's arrays (each unsubscribe holds its watch) alive.
    stops.length = 0
    batch.length = 0
  }
  return figures.sort((x, y) => x - y)[1] as number
}

async function watchCost (): Promise<string[]> {
  const lines: string[] = []
  const app = await appWith({ store: 'memory' })
  // The first watch starts the feed: its one-off cost is not a watch's.
  app.jwtRevoke.watch(payloads(1, 1)[0] as Record<string, unknown>, () => {})
  for (const subjects of [10_000, 100]) {
    lines.push(`10 000 watched tokens of ${subjects} subjects: ${(await bytesPerWatch(app, subjects)).toFixed(0)} bytes each (heap after GC, median of 3; the caller's payload objects not counted)`)
  }
  await settled(app)
  const baseline = heapUsed()
  for (let round = 0; round < 10; round++) {
    const stops = payloads(10_000, 1000).map((payload) => app.jwtRevoke.watch(payload, () => {}))
    await settled(app)
    for (const stop of stops) stop()
    stops.length = 0
  }
  const after = heapUsed()
  lines.push(`100 000 watches opened and closed: heap ${(baseline / 1e6).toFixed(2)} MB before, ${(after / 1e6).toFixed(2)} MB after (${((after - baseline) / 1024).toFixed(0)} KiB), watched ${app.jwtRevoke.watchStatus().watched - 1} of them left`)
  await app.close()
  return lines
}

const server = await startRedis()
try {
  console.log(`# ${new Date().toISOString()} node ${process.version}`)
  for (const mode of ['lookup', 'mirror'] as const) console.log(await latency(server.url, mode))
  for (const line of await watchCost()) console.log(line)
} finally {
  await server.stop()
}
