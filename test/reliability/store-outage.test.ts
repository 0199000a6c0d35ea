import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { bearer, buildApp, collectLogs } from '../helpers/app.js'
import { loadOn, recovery } from '../helpers/load.js'
import { listened, type RedisServer, startRedisFor } from '../helpers/redis-server.js'
import { rejection, sleep, timed } from '../helpers/reliability.js'

// Issue 4, faults: a Redis that dies or freezes under load. Fail-closed ('deny') answers 503 within a bound, never
// accepts a revoked token, never hangs, and recovers by itself; fail-open ('allow') lets requests through and logs.

// Generous for a busy 2-core machine (outages, restarts and recoveries); tap's default is 30 s per file.
t.setTimeout(120_000)

const STORE_TIMEOUT = 100
/** Far above storeTimeout (5x, plus slack for a loaded CI machine), far below a hang. */
const BOUND_MS = 5 * STORE_TIMEOUT + 1000
/** "Recovers by itself within a few seconds" of Redis being back. */
const RECOVERY_MS = 6000
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always']

interface Outage {
  /** Breaks the store; resolves once it is broken. */
  begin (): Promise<void> | void
  /** Mends it. */
  end (): Promise<void> | void
}

const outages = {
  stopped: (redis: RedisServer): Outage => ({ begin: () => redis.stop(), end: () => redis.start() }),
  paused: (redis: RedisServer): Outage => ({ begin: () => redis.pause(), end: () => redis.resume() })
}

async function denyUnderOutage (t: Test, name: keyof typeof outages, redisOption: (redis: RedisServer) => string | Redis): Promise<void> {
  const redis = await startRedisFor(t, AOF)
  const { app, sign } = await buildApp({ store: 'redis', redis: redisOption(redis), storeTimeout: STORE_TIMEOUT })
  t.teardown(() => app.close())
  const revoked = Array.from({ length: 20 }, () => sign())
  const fresh = Array.from({ length: 20 }, () => sign())
  await Promise.all(revoked.map((token) => app.revoke(token)))

  const load = loadOn(app, { revoked, fresh })
  await sleep(300)
  const outage = outages[name](redis)
  await outage.begin()
  const outageStart = performance.now()
  await sleep(300)
  const revokeDuringOutage = await timed(() => rejection(app.revoke(sign())))
  await sleep(400)
  const outageEnd = performance.now()
  await outage.end()
  const backAt = performance.now()
  const recoveredAfter = await recovery(load.samples, backAt, RECOVERY_MS)
  await sleep(300)
  const samples = await load.stop()

  const during = samples.filter((s) => s.start > outageStart && s.end < outageEnd)
  const withToken = during.filter((s) => s.kind !== 'anonymous')
  t.ok(withToken.length >= 10, `requests kept coming during the outage (${withToken.length})`)
  t.same(withToken.filter((s) => s.status !== 503 || s.code !== 'FST_JWT_REVOKE_STORE_UNAVAILABLE'), [],
    'every request with a token got 503 FST_JWT_REVOKE_STORE_UNAVAILABLE while Redis was down')
  t.same(during.filter((s) => s.kind === 'anonymous' && s.status !== 200), [], 'requests without a token never touch the store')
  t.same(samples.filter((s) => s.kind === 'revoked' && s.status === 200), [], 'a revoked token was never accepted, before, during or after')
  const slowest = Math.max(...samples.map((s) => s.end - s.start))
  t.ok(slowest < BOUND_MS, `no request hung: the slowest took ${Math.round(slowest)} ms (bound ${BOUND_MS} ms)`)

  t.equal(revokeDuringOutage.value.code, 'FST_JWT_REVOKE_STORE_UNAVAILABLE', 'revoke() during the outage rejects: the caller knows')
  t.ok(revokeDuringOutage.ms < BOUND_MS, `... within ${Math.round(revokeDuringOutage.ms)} ms`)

  t.ok(recoveredAfter !== undefined, `recovered by itself ${Math.round(recoveredAfter ?? -1)} ms after Redis came back (bound ${RECOVERY_MS} ms)`)
  const settled = samples.filter((s) => s.start > backAt + (recoveredAfter ?? 0) && s.kind !== 'anonymous')
  // A check after recovery may still miss the 100 ms storeTimeout on a loaded machine (seen at load 8 on two cores):
  // such a 503 fails closed as it should. What must hold is that the store answers again, and answers right.
  const answered = settled.filter((s) => !(s.status === 503 && s.code === 'FST_JWT_REVOKE_STORE_UNAVAILABLE'))
  t.ok(answered.length > 0 && answered.length >= settled.length / 2, `after recovery the store answers (${answered.length} of ${settled.length})`)
  t.ok(answered.every((s) => s.status === (s.kind === 'revoked' ? 401 : 200)), 'after recovery: revoked 401, others 200')
}

t.test('Redis stopped under load, deny: 503 within the bound, nothing revoked accepted, recovers by itself', async (t) => {
  // The plugin's own client, made from a URL with ioredis defaults (offline queue, 20 retries per command).
  await denyUnderOutage(t, 'stopped', (redis) => redis.url)
})

t.test('Redis frozen by SIGSTOP under load, deny: same bounds, recovers on SIGCONT', async (t) => {
  // A borrowed client with ioredis defaults: the TCP connection stays up, commands just never get an answer.
  await denyUnderOutage(t, 'paused', (redis) => {
    const client = listened(new Redis(redis.url))
    t.teardown(() => client.disconnect())
    return client
  })
})

type LogLine = Record<string, unknown>
const storeFailures = (logs: LogLine[]): LogLine[] => logs.filter((line) => String(line.msg).includes('revocation store failed'))

t.test('Redis stopped, allow: requests pass, and the failure is logged', async (t) => {
  const redis = await startRedisFor(t)
  const client = listened(new Redis(redis.url, { maxRetriesPerRequest: 1 }))
  t.teardown(() => client.disconnect())
  const { logger, lines: logs } = collectLogs('error')
  const plugin = { store: 'redis', redis: client, storeTimeout: STORE_TIMEOUT, onStoreError: 'allow' } as const
  const { app, sign } = await buildApp(plugin, {}, { logger })
  t.teardown(() => app.close())

  const burst = async (): Promise<number[]> => {
    const tokens = Array.from({ length: 100 }, () => sign())
    return await Promise.all(tokens.map(async (token) => {
      const { value, ms } = await timed(() => app.inject({ url: '/me', headers: bearer(token) }))
      t.ok(ms < BOUND_MS, 'within the bound') // one assertion per request, reported only when it fails
      return value.statusCode
    }))
  }

  await redis.stop()
  t.same(new Set(await burst()), new Set([200]), 'every request of the first burst passed')
  const firstBurst = storeFailures(logs).length
  t.ok(firstBurst >= 1, 'the failure was logged')
  t.ok(storeFailures(logs).every((line) => line.level === 50 && typeof line.err === 'object'), 'at error level, with the error')

  t.test('logged once per burst, not once per request; a burst a while later is logged again', async (t) => {
    t.ok(firstBurst <= 3, `100 failing requests made ${firstBurst} log lines`)
    await redis.start()
    let healthy = false
    for (let i = 0; i < 300 && !healthy; i++) {
      healthy = (await client.ping().catch(() => '')) === 'PONG'
      if (!healthy) await sleep(20)
    }
    t.ok(healthy, 'Redis is back')
    t.equal((await app.inject({ url: '/me', headers: bearer(sign()) })).statusCode, 200, 'a check succeeds: the burst is over')
    await sleep(1500)
    const beforeSecond = storeFailures(logs).length
    await redis.stop()
    await burst()
    const secondBurst = storeFailures(logs).length - beforeSecond
    t.ok(secondBurst >= 1 && secondBurst <= 3, `a new burst is logged again, once: ${secondBurst} lines`)
  })
})
