import type { ClusterOptions } from 'ioredis'
import t from 'tap'
import { MirrorStore, RedisStore, type RevocationClaims } from '../index.js'
import { bearer, buildApp, collectLogs, type TestApp } from './helpers/app.js'
import { notRefused, statusWithin, waitFor, writesDuringStart } from './helpers/mirror.js'
import { startClusterFor } from './helpers/redis-cluster.js'

// Real servers and many sequential round trips: 20-28 s on a loaded 2-core CI machine, too close to tap's default 30 s.
t.setTimeout(120_000)

const cluster = await startClusterFor(t)

async function mirrorApp (options: ClusterOptions = {}): Promise<TestApp> {
  const built = await buildApp({ store: 'redis', redis: cluster.client(options), mode: 'mirror', storeTimeout: 500 })
  t.teardown(() => built.app.close())
  return built
}

t.test('mirror mode on a Redis Cluster: loads from every primary and hears every write', async (t) => {
  const writer = await mirrorApp()
  const tokens = Array.from({ length: 300 }, (_, i) => writer.sign({ sub: `cluster-user-${i}` }))
  for (const token of tokens) await writer.app.revoke(token)
  const slots = new Set(await Promise.all(tokens.map((_, i) => cluster.keySlot(`{cluster-user-${i}}`))))
  const owners = new Set(await Promise.all([...slots].map(async (slot) => (await cluster.ownerOf(slot)).id)))
  t.equal(owners.size, 3, 'the revocations are spread over all three primaries')

  const reader = await mirrorApp()
  t.ok((reader.app.jwtRevoke.stats().mirror?.entries ?? 0) >= 300, 'a new instance loaded them all')
  for (const token of [tokens[0], tokens[150], tokens[299]] as string[]) {
    t.equal((await reader.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  }
  const live = writer.sign({ sub: 'cluster-late' })
  t.equal((await reader.app.inject({ url: '/me', headers: bearer(live) })).statusCode, 200)
  await writer.app.revoke(live)
  const started = Date.now()
  let status = 200
  while (status !== 401 && Date.now() - started < 5000) {
    status = (await reader.app.inject({ url: '/me', headers: bearer(live) })).statusCode
    if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  t.equal(status, 401, `a later revocation reached the other instance in ${Date.now() - started} ms`)
})

for (const keyPrefix of [undefined, 'app1:']) {
  t.test(`a mixed fleet on the Cluster, client keyPrefix ${keyPrefix ?? 'none'}: lookup, mirror and a RedisStore agree`, async (t) => {
    const options = keyPrefix === undefined ? {} : { keyPrefix }
    const lookup = await buildApp({ store: 'redis', redis: cluster.client(options), storeTimeout: 500 })
    t.teardown(() => lookup.app.close())
    const mirror = await buildApp({ store: 'redis', redis: cluster.client(options), mode: 'mirror', storeTimeout: 500 })
    t.teardown(() => mirror.app.close())
    const byHand = new RedisStore({ client: cluster.client(options) })
    const tag = keyPrefix === undefined ? 'bare' : 'prefixed'
    const viaLookup = Array.from({ length: 20 }, (_, i) => lookup.sign({ sub: `${tag}-lookup-${i}` }))
    const viaHand = Array.from({ length: 20 }, (_, i) => ({ jti: `hand-${i}`, sub: `${tag}-hand-${i}` }))
    const viaMirror = mirror.sign({ sub: `${tag}-mirror` })
    for (const token of viaLookup) await lookup.app.revoke(token)
    for (const claims of viaHand) await byHand.revoke(claims, 600)
    await lookup.app.revokeSubject(`${tag}-subject`, { before: Math.floor(Date.now() / 1000) + 1 })
    await mirror.app.revoke(viaMirror)
    const handTokens = viaHand.map((claims) => lookup.sign(claims))
    const subjectToken = lookup.sign({ sub: `${tag}-subject` })
    for (const token of [...viaLookup, ...handTokens, subjectToken]) t.ok(await statusWithin(mirror.app, token, 401, 2000) < 2000)
    t.equal((await lookup.app.inject({ url: '/me', headers: bearer(viaMirror) })).statusCode, 401, 'the lookup instance sees the mirror\'s write')
    const late = await mirrorApp(options)
    for (const token of [...viaLookup, ...handTokens, subjectToken, viaMirror]) {
      t.equal((await late.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    }
    t.equal(await cluster.client().exists(`${keyPrefix ?? ''}jwt-revoke:{${tag}-hand-0}:jti:hand-0`), 1, 'the key carries the client prefix')
  })
}

t.test('on the Cluster, a killed subscriber marks the mirror stale, and the resync enforces what was written meanwhile', async (t) => {
  const mirror = new MirrorStore({ client: cluster.client(), heartbeat: 100 })
  t.teardown(() => mirror.close())
  await mirror.start()
  const writer = new RedisStore({ client: cluster.client() })
  let killed = 0
  for (const node of cluster.nodes) killed += Number(await node.admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))
  // Every mirror's subscriber: this one's, and those of the instances the first test left running.
  t.ok(killed >= 1, `${killed} subscriber connection(s) killed`)
  const revoked = Array.from({ length: 50 }, (_, i) => ({ jti: `killed-${i}`, sub: `killed-user-${i}` }))
  await Promise.all(revoked.map((claims) => writer.revoke(claims, 600)))
  t.equal(mirror.status().synced, false, 'stale as soon as it is cut')
  t.equal(await mirror.isRevoked({ jti: 'killed-0', sub: 'killed-user-0' }), true, 'Redis answers its checks meanwhile')
  await waitFor('in sync again', () => mirror.status().synced)
  t.same(await notRefused(mirror, revoked), [], 'nothing written while it was cut is missing')
})

// Before the long-SCAN test below: its 200 000 keys would size this mirror's table far beyond what the test fills.
t.test('on the Cluster, with a client keyPrefix and a lookup-mode writer, a large table that fills up resyncs into a larger one', async (t) => {
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  const mirror = new MirrorStore({ client: cluster.client({ keyPrefix: 'app1:' }), keyPrefix: 'grow:', heartbeat: 100, growInPlaceUpTo: 100, log: logger.log })
  await mirror.start()
  t.teardown(() => mirror.close())
  const writer = new RedisStore({ client: cluster.client({ keyPrefix: 'app1:' }), keyPrefix: 'grow:' })
  const revoked: RevocationClaims[] = []
  const write = async (count: number): Promise<void> => {
    // 37 subjects: the keys spread over the three primaries.
    const batch = Array.from({ length: count }, (_, i) => ({ jti: `grow-${revoked.length + i}`, sub: `grower-${(revoked.length + i) % 37}` }))
    await Promise.all(batch.map(async (claims) => await writer.revoke(claims, 3600)))
    revoked.push(...batch.map((claims) => ({ ...claims, iat: 1 })))
  }
  while (mirror.status().synced && revoked.length < 20_000) {
    await write(100)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(mirror.status().synced, false, `out of sync once full, after ${revoked.length} revocations`)
  t.ok(logs.lines.some((line) => String((line.reason as string | undefined) ?? '').includes('grows at a resync')), 'and it says why')
  // Revocations go on while it resyncs: each is checked, by Redis or by the copy, whichever answers. Refused at once
  // while Redis answers; once the copy answers, they are writes of another instance, refused within the propagation
  // delay (a fresh-clone CI run saw the switch come between a batch's writes and its check: the batch was not heard yet).
  let checked = 0
  while (!mirror.status().synced) {
    await write(20)
    const batch = revoked.slice(-20)
    const waited = await waitFor('the revocations just made refused', async () => (await notRefused(mirror, batch)).length === 0, 2000)
    t.ok(waited < 2000, `the revocations just made are refused (after ${waited} ms)`)
    t.equal(await mirror.isRevoked({ jti: 'never-revoked', sub: 'grower-1', iat: 1 }), false, 'a valid token passes')
    checked++
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  t.ok(checked > 0, `${checked} rounds of writes and checks ran while it resynced`)
  // The last writes' messages may still travel behind the marker that ended the sync.
  await waitFor('every revocation held', () => mirror.status().entries === revoked.length, 2000)
  t.same(await notRefused(mirror, revoked), [], 'the larger table refuses every one')
  t.equal(mirror.isRevoked({ jti: 'never-revoked', sub: 'grower-1', iat: 1 }), false, 'a valid token is answered from memory')
})

t.test('on the Cluster, the subscriber killed in the middle of a long SCAN: the sync starts again, nothing is lost', async (t) => {
  // 200 000 keys of another app, in one slot (one hash tag), make that primary's SCAN long.
  const admin = cluster.client()
  for (let batch = 0; batch < 200; batch++) {
    await admin.mset(Array.from({ length: 1000 }, (_, i) => [`{other-app}:${batch}:${i}`, 'x']).flat())
  }
  const busy = await cluster.ownerOf(await cluster.keySlot('{other-app}'))
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  // Named, so that its SCAN is told apart from the other mirrors' connections, whose last command may be a SCAN too.
  const named = cluster.client({ redisOptions: { maxRetriesPerRequest: 1, connectionName: 'long-scan-mirror' } })
  const mirror = new MirrorStore({ client: named, keyPrefix: 'long-scan:', heartbeat: 200, log: logger.log })
  t.teardown(() => mirror.close())
  const started = mirror.start()
  await waitFor('its SCAN running', async () => /name=long-scan-mirror .*cmd=scan/.test(String(await busy.admin.client('LIST'))), 10_000)
  let killed = 0
  for (const node of cluster.nodes) killed += Number(await node.admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))
  t.ok(killed >= 1, 'the subscriber is killed mid-SCAN')
  const writer = new RedisStore({ client: cluster.client(), keyPrefix: 'long-scan:' })
  const revoked = Array.from({ length: 60 }, (_, i) => ({ jti: `gap-${i}`, sub: `gap-user-${i}` }))
  await Promise.all(revoked.map((claims) => writer.revoke(claims, 600)))
  // The first sync may also fail outright (its new subscription refused while the connection comes back): retried.
  await started.catch(() => {})
  await waitFor('in sync', () => mirror.status().synced)
  t.ok(logs.lines.some((line) => String(line.msg).includes('lost its subscription while it synced')), 'the sync saw the loss and started again')
  t.same(await notRefused(mirror, revoked), [], 'every revocation made in the gap is enforced')
})

t.test('on the Cluster, revocations made while a mirror starts, and at once after, all reach it', async (t) => {
  const writer = new RedisStore({ client: cluster.client() })
  let missed = 0
  for (let round = 0; round < 6; round++) {
    const mirror = new MirrorStore({ client: cluster.client() })
    // A subject per write: their keys spread over the three primaries.
    const held = await writesDuringStart(mirror, round, async (i) => {
      const claims = { jti: `cluster-start-${round}-${i}`, sub: `cluster-starter-${round}-${i}` }
      await writer.revoke(claims, 600)
      return claims
    })
    if (!held) missed++
    await mirror.close()
  }
  t.equal(missed, 0, 'no round lost a write (6 rounds of 20)')
})
