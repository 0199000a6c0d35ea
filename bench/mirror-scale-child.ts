// One mirror in a process of its own, measured at one size (see mirror-scale.ts, which starts it and fills Redis).
// Prints one JSON line. Usage: node --expose-gc --import tsx bench/mirror-scale-child.ts <redis url> <entries>
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import fastifyJwtRevoke, { MirrorStore, RedisStore, type RevocationClaims, type RevocationStore } from '../index.js'
import { benchKey } from './mirror-scale-keys.js'
import { type Stalls, watchStalls } from './stall-watch.js'

const [url = '', entriesArg = '0'] = process.argv.slice(2)
const entries = Number(entriesArg)
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const rss = (): number => process.memoryUsage().rss

/** Samples RSS every 20 ms and the event-loop stalls while `run` runs; answers the peak RSS and the longest stalls. */
async function watched<T> (run: () => Promise<T>): Promise<{ value: T, peakRss: number, maxDelayMs: number, ownDelayMs: number }> {
  let peakRss = rss()
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, rss()) }, 20)
  const stopStalls = watchStalls()
  let stalls: Stalls
  let value: T
  try {
    value = await run()
    peakRss = Math.max(peakRss, rss())
  } finally {
    stalls = stopStalls()
    clearInterval(sampler)
  }
  return { value, peakRss, maxDelayMs: stalls.longestMs, ownDelayMs: stalls.ownMs }
}

/** Tokens nobody revoked (answered in process, no round trip), half of them of subjects that have a cutoff before they were issued. */
const validTokens = (): RevocationClaims[] => Array.from({ length: 200_000 }, (_, i) => ({ jti: `valid-${i}-${Math.random().toString(36).slice(2)}`, sub: i % 2 === 0 ? `user-${i % 1_000_000}` : `cut-${(i % 10_000) * 100}`, iat: 2_000_000_000 }))

/** Nanoseconds per check of the valid tokens: the same tokens for every store, so only the store differs. */
function checkCost (store: MirrorStore, validClaims: RevocationClaims[]): number {
  let refused = 0
  const started = process.hrtime.bigint()
  for (const one of validClaims) if (store.isRevoked(one) !== false) refused++
  const ns = Number(process.hrtime.bigint() - started) / validClaims.length
  if (refused > 0) throw new Error(`${refused} valid tokens were not answered false at once`)
  return ns
}

async function until (what: string, condition: () => boolean, limitMs: number): Promise<number> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`)
    await sleep(5)
  }
  return Date.now() - started
}

// The mirrors' warnings (out of sync, resyncing) go to stderr with the time since start: a figure measured while a
// mirror resyncs when it should not is visible as such.
const started = Date.now()
const say = (level: string) => (object: unknown, message?: string): void => {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${level} ${message ?? ''} ${JSON.stringify(object)}\n`)
}
const log = { level: 'warn', fatal: say('fatal'), error: say('error'), warn: say('warn'), info: () => {}, debug: () => {}, trace: () => {}, silent: () => {}, child: () => log } as unknown as FastifyBaseLogger

const client = new Redis(url)
const admin = new Redis(url)
const writer = new RedisStore({ client: admin })
const mirror = new MirrorStore({ client, ownsClient: true, maxEntries: 2 * entries + 1000, log })
const empty = new MirrorStore({ client: new Redis(url), keyPrefix: 'empty:', ownsClient: true, log })
await empty.start()
gc()
const baseRss = rss()
// The same measures before the load: what the machine's own load costs an idle process.
const idle = await watched(async () => { await sleep(10_000) })
const idleGcStarted = performance.now()
gc()
const idleGcMs = performance.now() - idleGcStarted

// First sync, from nothing.
const startedAt = Date.now()
const first = await watched(async () => { await mirror.start() })
const syncMs = Date.now() - startedAt
gc()
await sleep(500)
const steadyRss = rss()
const heapUsed = process.memoryUsage().heapUsed

// Check cost, interleaved with the empty mirror's (each going first in turn), in this same process.
const costs = { empty: [] as number[], full: [] as number[] }
const valid = validTokens()
checkCost(empty, valid)
checkCost(mirror, valid)
for (let round = 0; round < 6; round++) {
  if (round % 2 === 0) costs.empty.push(checkCost(empty, valid))
  costs.full.push(checkCost(mirror, valid))
  if (round % 2 === 1) costs.empty.push(checkCost(empty, valid))
}
valid.length = 0
const best = (list: number[]): number => Math.min(...list)

const revokedClaims = ((): RevocationClaims => { const { jti, sub } = benchKey(7); return { jti, sub, iat: 1 } })()
const confirmed = await mirror.isRevoked(revokedClaims)

// Steady state: sweeps run in slices; a full GC is timed on its own. The check-cost harness's garbage (1.6 M claims)
// is collected first: it is this script's, not the mirror's.
gc()
const steadyFrom = mirror.status().lastSync
const steady = await watched(async () => { await sleep(10_000) })
// The steady figures are only that if the mirror stayed in sync from the same sync all along.
const steadyInSync = mirror.status().synced && mirror.status().lastSync === steadyFrom
const gcStarted = performance.now()
gc()
const gcMs = performance.now() - gcStarted

// A gap: the subscriber is killed; the mirror resyncs in place, while checks and writes go on.
let answered = 0
let wrong = 0
let failed = 0
const checking = { on: true }
const checks = (async () => {
  while (checking.on) {
    try {
      if (await mirror.isRevoked(revokedClaims) !== true) wrong++
      if (await mirror.isRevoked({ jti: 'never-revoked', sub: 'user-1', iat: 2_000_000_000 }) !== false) wrong++
      answered += 2
    } catch {
      failed++
    }
    await sleep(1)
  }
})()
const during: RevocationClaims[] = []
const gap = await watched(async () => {
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await until('out of sync', () => !mirror.status().synced, 10_000)
  const outAt = Date.now()
  // Revocations made while it resyncs and around the switch: every one must be refused once in sync.
  let i = 0
  while (!mirror.status().synced && Date.now() - outAt < 600_000) {
    const claims = { jti: `during-${i++}`, sub: `user-${i % 1000}` }
    await writer.revoke(claims, 3600)
    during.push({ ...claims, iat: 1 })
    await sleep(i % 2 === 0 ? 2 : 20)
  }
  const resyncMs = Date.now() - outAt
  for (let j = 0; j < 20; j++) {
    const claims = { jti: `after-${j}`, sub: `user-${j}` }
    await writer.revoke(claims, 3600)
    during.push({ ...claims, iat: 1 })
  }
  return resyncMs
})
checking.on = false
await checks
// The last writes reach the copy within the propagation delay: up to 2 s is given before one counts as missed.
const missed = async (): Promise<number> => (await Promise.all(during.map(async (claims) => await mirror.isRevoked(claims)))).filter((answer) => !answer).length
const waitedStarted = Date.now()
while (await missed() > 0 && Date.now() - waitedStarted < 2000) await sleep(20)
const missedAfterResync = await missed()
// Last, so that its garbage is in none of the memory and stall figures above.
/**
 * The same comparison one level up: an authenticated request (app.inject, @fastify/jwt HS256 plus the plugin's check)
 * on an app whose store answers from this mirror. The store is handed over behind a wrapper without start(), so the
 * plugin does not sync it again.
 */
async function requestApp (store: MirrorStore): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: 'mirror-scale-bench-secret-of-32-bytes!' })
  const wrapped: RevocationStore = { isRevoked: (claims) => store.isRevoked(claims), revoke: async () => {}, revokeSubject: async () => {} }
  await app.register(fastifyJwtRevoke, { store: wrapped })
  app.get('/me', { onRequest: app.authenticate }, async () => ({ ok: true }))
  await app.ready()
  return app
}
const apps = { empty: await requestApp(empty), full: await requestApp(mirror) }
const headers = Array.from({ length: 10_000 }, (_, i) => ({ authorization: `Bearer ${apps.full.jwt.sign({ sub: i % 2 === 0 ? `user-${i}` : `cut-${(i % 10_000) * 100}`, jti: `request-${i}-${Math.random().toString(36).slice(2)}` })}` }))
async function requestCost (app: FastifyInstance): Promise<number> {
  const started = process.hrtime.bigint()
  for (const one of headers) {
    const response = await app.inject({ url: '/me', headers: one })
    if (response.statusCode !== 200) throw new Error(`a valid token got ${response.statusCode}`)
  }
  return Number(process.hrtime.bigint() - started) / headers.length
}
const requests = { empty: [] as number[], full: [] as number[] }
await requestCost(apps.empty)
await requestCost(apps.full)
for (let round = 0; round < 6; round++) {
  if (round % 2 === 0) requests.empty.push(await requestCost(apps.empty))
  requests.full.push(await requestCost(apps.full))
  if (round % 2 === 1) requests.empty.push(await requestCost(apps.empty))
}
await Promise.all([apps.empty.close(), apps.full.close()])
gc()
console.log(JSON.stringify({
  entries,
  held: mirror.status().entries,
  syncMs,
  baseRss,
  firstPeakRss: first.peakRss,
  steadyRss,
  heapUsed,
  firstMaxDelayMs: first.maxDelayMs,
  firstOwnDelayMs: first.ownDelayMs,
  checkNsEmpty: best(costs.empty),
  checkNsFull: best(costs.full),
  requestNsEmpty: best(requests.empty),
  requestNsFull: best(requests.full),
  confirmed,
  steadyMaxDelayMs: steady.maxDelayMs,
  steadyOwnDelayMs: steady.ownDelayMs,
  steadyInSync,
  idleMaxDelayMs: idle.maxDelayMs,
  idleOwnDelayMs: idle.ownDelayMs,
  idleGcMs,
  gcMs,
  resyncMs: gap.value,
  resyncPeakRss: gap.peakRss,
  resyncMaxDelayMs: gap.maxDelayMs,
  resyncOwnDelayMs: gap.ownDelayMs,
  checksDuringResync: answered,
  wrongDuringResync: wrong,
  failedDuringResync: failed,
  writesDuringResync: during.length,
  missedAfterResync
}))
await Promise.all([mirror.close(), empty.close()])
admin.disconnect()
