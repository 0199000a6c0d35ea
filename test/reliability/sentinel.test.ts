import t, { type Test } from 'tap'
import { MirrorStore, RedisStore, type RevocationClaims } from '../../index.js'
import { bearer, buildApp, collectLogs } from '../helpers/app.js'
import { followedAfter, loadOn } from '../helpers/load.js'
import { notRefused, waitFor } from '../helpers/mirror.js'
import { startSentinelFor } from '../helpers/redis-sentinel.js'
import { rejection, sleep } from '../helpers/reliability.js'

// Issue 12: Redis Sentinel. A real primary, a replica and three sentinels (quorum 2, down-after 1 s); the app is given
// an ioredis client that finds the primary through the sentinels. The primary dies with a reset (SIGKILL) or freezes
// for good (SIGSTOP: its connections stay open and silent). The plugin must follow to the promoted replica by itself,
// and every revocation acknowledged before the failover, with durability (WAIT for the replica), must still be refused.

t.setTimeout(240_000)

const STORE_TIMEOUT = 300
const DURABILITY = { replicas: 1, timeout: 200 }
/** down-after 1 s, the sentinels' vote and promotion, then the client's reconnect; generous for a loaded machine. */
const RECOVERY_MS = 30_000

async function failover (t: Test, fault: 'kill' | 'freeze', mode: 'lookup' | 'mirror'): Promise<void> {
  const setup = await startSentinelFor(t)
  const { app, sign } = await buildApp({ store: 'redis', redis: setup.client(), mode, storeTimeout: STORE_TIMEOUT, durability: DURABILITY })
  // Another instance, on the replica's own address: its writes fail (READONLY) until the replica is promoted.
  const other = await buildApp({ store: 'redis', redis: setup.replica.url, mode, storeTimeout: STORE_TIMEOUT })
  t.teardown(() => Promise.all([app.close(), other.app.close()]))
  const revoked = Array.from({ length: 20 }, (_, i) => sign({ sub: `user-${i}` }))
  await Promise.all(revoked.map((token) => app.revoke(token)))
  await app.revokeSubject('cut-off')
  const cutOff = sign({ sub: 'cut-off', iat: Math.floor(Date.now() / 1000) - 5 })
  const fresh = Array.from({ length: 20 }, () => sign())

  const load = loadOn(app, { revoked: [...revoked, cutOff], fresh })
  await sleep(300)
  if (fault === 'kill') await setup.primary.kill()
  else setup.primary.pause()
  const faultAt = performance.now()
  const faultWall = Date.now()
  // A mirror answers from its copy, from Redis only while out of sync: that is how it feels the failover.
  let outOfSync = false
  const syncWatch = setInterval(() => { outOfSync ||= app.jwtRevoke.stats().mirror?.synced === false }, 20)
  // Followed once a token revoked on the promoted replica is refused by the app: its checks (lookup) or its mirror's
  // subscription and resync (mirror) are on the new primary.
  const recoveredAfter = await followedAfter(app, other.app, () => sign(), faultAt, RECOVERY_MS)
  await sleep(300)
  const samples = await load.stop()
  clearInterval(syncWatch)

  t.ok(recoveredAfter !== undefined, `${mode}, primary ${fault === 'kill' ? 'killed' : 'frozen'}: followed to the new primary ${Math.round(recoveredAfter ?? -1)} ms after the fault (bound ${RECOVERY_MS} ms)`)
  t.equal(await setup.primaryPort(), setup.replica.port, 'the sentinels promoted the replica')
  t.same(samples.filter((s) => s.kind === 'revoked' && s.status === 200), [], 'a revoked token was never accepted, before, during or after')
  t.same(samples.filter((s) => s.kind !== 'anonymous' && ![200, 401, 503].includes(s.status)), [], 'only 200, 401 or 503')
  // Out of sync, a mirror's checks go to Redis, often already on the new primary: it may never answer 503, but it
  // must have left sync (or resynced) after the fault. Lookup mode must have failed some checks.
  const resynced = (app.jwtRevoke.stats().mirror?.lastSync ?? 0) > faultWall
  const felt = samples.some((s) => s.start > faultAt && s.status === 503) || (mode === 'mirror' && (outOfSync || resynced))
  t.ok(felt, 'the failover was felt: a 503, or (mirror) out of sync after the fault (the test can fail)')
  const lastFresh = samples.filter((s) => s.kind === 'fresh').slice(-5)
  t.same(lastFresh.map((s) => s.status), [200, 200, 200, 200, 200], 'valid tokens pass again')
  const statuses = await Promise.all([...revoked, cutOff].map(async (token) => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode))
  t.same(new Set(statuses), new Set([401]), 'every durable revocation made before the failover is refused by the new primary')
  // The write connection may still be on the old primary (frozen: dropped at its first unanswered write); within a
  // few seconds it is on the new one, which has no replica left to confirm.
  let message = ''
  for (let i = 0; i < 20 && !message.includes('0 of 1 replica'); i++) message = (await rejection(app.revoke(sign()))).message
  t.match(message, /0 of 1 replica/, 'a durable revoke() then rejects: the new primary has no replica left to confirm it')
}

// Each failover has a Sentinel set-up of its own and mostly waits (down-after, the vote, the reconnect): they run side
// by side rather than one after the other.
t.jobs = 4
t.test('Sentinel, lookup mode: primary killed (reset)', { buffered: true }, (t) => failover(t, 'kill', 'lookup'))
t.test('Sentinel, lookup mode: primary frozen for good (silent)', { buffered: true }, (t) => failover(t, 'freeze', 'lookup'))
t.test('Sentinel, mirror mode: primary killed (reset)', { buffered: true }, (t) => failover(t, 'kill', 'mirror'))
t.test('Sentinel, mirror mode: primary frozen for good (silent)', { buffered: true }, (t) => failover(t, 'freeze', 'mirror'))

// An app client that reads from the replica (`role: 'slave'`): the plugin's own connection goes to the primary all
// the same, so its writes succeed and its reads see them (before: revoke() failed with READONLY on the replica).
t.test("Sentinel, an app client with role 'slave': the plugin reads and writes the primary", { buffered: true }, async (t) => {
  const setup = await startSentinelFor(t)
  const { app, sign } = await buildApp({ store: 'redis', redis: setup.client({ role: 'slave' }), storeTimeout: 1000 })
  t.teardown(() => app.close())
  const token = sign()
  await app.revoke(token)
  t.pass('revoke() resolves: the write went to the primary')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'and the check sees it')
  t.equal(await app.isRevoked(token), true)
})

// Two faults at once: a mirror whose large table filled up goes out of sync to resync into a larger one, and the
// primary dies right then. The resync must land on the promoted replica, into the larger table, with every durable
// revocation; revocations made on the new primary reach it too.
t.test('Sentinel, mirror mode: the primary killed while a full mirror waits to resync into a larger table', { buffered: true }, async (t) => {
  const setup = await startSentinelFor(t)
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  const mirror = new MirrorStore({ client: setup.client(), keyPrefix: 'grow:', heartbeat: 100, growInPlaceUpTo: 100, log: logger.log })
  await mirror.start()
  t.teardown(() => mirror.close())
  const firstSync = mirror.status().lastSync
  const writer = new RedisStore({ client: setup.client(), keyPrefix: 'grow:', durability: DURABILITY })
  // Its own connection for the WAITs; the setup's clients are closed by the setup.
  t.teardown(() => writer.close())
  const revoked: RevocationClaims[] = []
  const write = async (count: number, tag: string): Promise<void> => {
    const batch = Array.from({ length: count }, (_, i) => ({ jti: `${tag}-${revoked.length + i}`, sub: `grower-${(revoked.length + i) % 37}` }))
    await Promise.all(batch.map(async (claims) => await writer.revoke(claims, 3600)))
    revoked.push(...batch.map((claims) => ({ ...claims, iat: 1 })))
  }
  while (mirror.status().synced && revoked.length < 20_000) await write(100, 'before')
  t.equal(mirror.status().synced, false, `out of sync once full, after ${revoked.length} revocations`)
  // The resync waits one beat (100 ms) before it starts: the primary is gone before it does.
  await setup.primary.kill()
  t.same([mirror.status().synced, mirror.status().lastSync], [false, firstSync], 'when the primary died it was still out of sync, no sync done since its first')
  t.ok(logs.lines.some((line) => String((line.reason as string | undefined) ?? '').includes('grows at a resync')), 'it went out of sync to grow')
  await waitFor('in sync on the promoted replica', () => mirror.status().synced, RECOVERY_MS)
  t.equal(await setup.primaryPort(), setup.replica.port, 'the sentinels promoted the replica')
  t.same(await notRefused(mirror, revoked), [], 'every revocation made before the failover is refused from the copy')
  // The new primary has no replica left: these writes are not durable, and need not be.
  const after = new RedisStore({ client: setup.client(), keyPrefix: 'grow:' })
  const later = Array.from({ length: 20 }, (_, i) => ({ jti: `after-${i}`, sub: `grower-${i}` }))
  await Promise.all(later.map(async (claims) => await after.revoke(claims, 3600)))
  await waitFor('the later revocations heard', async () => (await notRefused(mirror, later)).length === 0, 2000)
  t.equal(mirror.status().entries, revoked.length + later.length, 'the larger table holds every revocation')
  t.equal(mirror.isRevoked({ jti: 'never-revoked', sub: 'grower-1', iat: 1 }), false, 'a valid token is answered from memory')
})
