import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { MirrorStore, RedisStore, type RevocationClaims } from '../index.js'
import { cutoffEntry, jtiEntry } from '../lib/keys.js'
import { bearer, buildApp, collectLogs, type TestApp } from './helpers/app.js'
import { cli } from './helpers/cli-run.js'
import { notRefused, statusWithin as until, waitFor } from './helpers/mirror.js'
import { listened, startRedisFor } from './helpers/redis-server.js'
import { startTcpProxy } from './helpers/tcp-proxy.js'

// Real servers and many sequential round trips: 20-28 s on a loaded 2-core CI machine, too close to tap's default 30 s.
t.setTimeout(120_000)

const server = await startRedisFor(t)
const admin = listened(new Redis(server.url))
t.teardown(() => admin.quit())

async function mirrorApp (t: Test, url = server.url, extra: Record<string, unknown> = {}): Promise<TestApp> {
  const built = await buildApp({ store: 'redis', redis: url, mode: 'mirror', storeTimeout: 100, ...extra })
  t.teardown(() => built.app.close())
  return built
}

t.test('a revocation through one instance reaches the mirrors of the others', async (t) => {
  const [a, b, c] = [await mirrorApp(t), await mirrorApp(t), await mirrorApp(t)]
  const token = a.sign({ sub: 'mirror-user' })
  for (const { app } of [a, b, c]) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await a.app.revoke(token)
  t.equal((await a.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'the revoking instance refuses at once')
  for (const { app } of [b, c]) t.ok(await until(app, token, 401) < 2000, 'the others within the propagation delay')
  await b.app.revokeSubject('mirror-user', { before: Math.floor(Date.now() / 1000) + 5 })
  const later = a.sign({ sub: 'mirror-user' })
  t.ok(await until(c.app, later, 401) < 2000, 'subject cutoffs propagate too')
  const stats = c.app.jwtRevoke.stats()
  t.equal(stats.mirror?.synced, true)
  t.ok((stats.mirror?.entries ?? 0) >= 2)
  t.ok((stats.mirror?.lastSync ?? 0) > 0)
  t.ok(await admin.exists('jwt-revoke:{mirror-user}:cutoff'), 'writes land in Redis')
})

t.test('a new instance loads what was revoked before it started', async (t) => {
  // 2 500 revocations one after the other: a 100 ms deadline each was missed once on a busy CI machine.
  const writer = await mirrorApp(t, server.url, { storeTimeout: 2000 })
  const tokens = Array.from({ length: 2500 }, (_, i) => writer.sign({ sub: `bulk-${i % 50}` }))
  for (const token of tokens) await writer.app.revoke(token)
  await writer.app.revokeSubject('bulk-cutoff')
  const reader = await mirrorApp(t, server.url, { storeTimeout: 2000 })
  t.equal((await reader.app.inject({ url: '/me', headers: bearer(tokens[1234] as string) })).statusCode, 401)
  t.equal((await reader.app.inject({ url: '/me', headers: bearer(reader.sign({ sub: 'bulk-cutoff', iat: Math.floor(Date.now() / 1000) - 5 })) })).statusCode, 401)
  t.equal((await reader.app.inject({ url: '/me', headers: bearer(reader.sign({ sub: 'bulk-1' })) })).statusCode, 200)
  t.ok((reader.app.jwtRevoke.stats().mirror?.entries ?? 0) >= 2501)
})

t.test('cut off from Redis: fail closed, then resync and enforce what was revoked meanwhile', async (t) => {
  const proxy = await startTcpProxy(server.port)
  t.teardown(() => proxy.close())
  const logs = collectLogs('warn')
  const writer = await mirrorApp(t)
  const partitioned = await buildApp(
    { store: 'redis', redis: `redis://127.0.0.1:${proxy.port}`, mode: 'mirror', storeTimeout: 100 }, {}, { logger: logs.logger })
  t.teardown(() => partitioned.app.close())
  const token = writer.sign()
  t.equal((await partitioned.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)

  proxy.cut()
  await until(partitioned.app, token, 503)
  await writer.app.revoke(token)
  t.equal((await partitioned.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'never a silent accept while cut off')
  proxy.restore()
  await until(partitioned.app, token, 401)
  t.pass('after reconnecting, the revocation made meanwhile is enforced')
  t.ok(logs.lines.some((line) => String(line.msg).includes('mirror is out of sync')))
})

t.test('a silent partition is caught by the heartbeat', async (t) => {
  const proxy = await startTcpProxy(server.port)
  t.teardown(() => proxy.close())
  const client = listened(new Redis(proxy.port, '127.0.0.1', { maxRetriesPerRequest: 1 }))
  const store = new MirrorStore({ client, heartbeat: 100, ownsClient: true })
  await store.start()
  t.teardown(() => store.close())
  t.equal(store.isRevoked({ jti: 'x', sub: 'y' }), false)
  t.equal(store.isRevoked({ jti: 'x' }), false, 'a token without subject')
  t.equal(store.isRevoked({ sub: 'y', iat: 1 }), false, 'a token without jti')
  proxy.blackhole()
  const started = Date.now()
  while (store.status().synced && Date.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(store.status().synced, false, `stale after ${Date.now() - started} ms of silence`)
  const answer = store.isRevoked({ jti: 'x', sub: 'y' })
  t.ok(answer instanceof Promise, 'out of sync, the check goes to Redis')
  ;(answer as Promise<boolean>).catch(() => {})
  proxy.restore()
  while (!store.status().synced && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(store.status().synced, true, 'in sync again once the network is back')
})

t.test('a process whose event loop was blocked for many beats keeps its copy: it was paused, not cut off', async (t) => {
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  const store = new MirrorStore({ client: listened(new Redis(server.url)), heartbeat: 50, ownsClient: true, log: logger.log })
  await store.start()
  t.teardown(() => store.close())
  const before = store.status()
  t.equal(before.synced, true)
  for (let pause = 0; pause < 3; pause++) {
    // Ten beats of a synchronous job, the way a large JSON.parse or a CPU-bound loop holds a server.
    const until = Date.now() + 500
    while (Date.now() < until) { /* blocked */ }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.same(store.status(), before, 'still in sync from the same sync')
  t.same(logs.lines.filter((line) => String(line.msg).includes('out of sync')), [], 'it never said it was out of sync')
})

t.test('a large table that fills up resyncs into a larger one: no rehash, Redis answers meanwhile, nothing missed', async (t) => {
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  const writer = new RedisStore({ client: admin, keyPrefix: 'grow:' })
  // Its keys go with it: later tests size their mirrors from DBSIZE.
  t.teardown(async () => { await admin.del(...await admin.keys('grow:*')) })
  const store = new MirrorStore({ client: listened(new Redis(server.url)), keyPrefix: 'grow:', heartbeat: 500, growInPlaceUpTo: 100, ownsClient: true, log: logger.log })
  await store.start()
  t.teardown(() => store.close())
  // Revocations from another instance until this mirror's table is full (sized from DBSIZE at its sync).
  const revoked: RevocationClaims[] = []
  while (store.status().synced && revoked.length < 50_000) {
    const batch = Array.from({ length: 200 }, (_, i) => ({ jti: `grow-${revoked.length + i}`, sub: 'grower' }))
    await Promise.all(batch.map(async (claims) => await writer.revoke(claims, 3600)))
    revoked.push(...batch.map((claims) => ({ ...claims, iat: 1 })))
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(store.status().synced, false, `out of sync once full, after ${revoked.length} revocations`)
  t.ok(logs.lines.some((line) => String((line.reason as string | undefined) ?? '').includes('grows at a resync')), 'and it says why')
  t.same(await notRefused(store, revoked), [], 'meanwhile Redis refuses every one of them')
  await waitFor('in sync again', () => store.status().synced, 20_000)
  t.equal(store.status().entries, revoked.length, 'the larger table holds every revocation')
  t.same(await notRefused(store, revoked), [], 'and the copy refuses every one')
  t.equal(store.isRevoked({ jti: 'never-revoked', sub: 'grower', iat: 1 }), false, 'a valid token is answered from memory')
})

t.test('the ops CLI as the writer that fills a large table: the mirror resyncs into a larger one and refuses every CLI revocation', async (t) => {
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  // A database of its own (DBSIZE, which sizes the table, counts only its keys): a small table, filled by fewer runs.
  const url = `${server.url}/5`
  const db = listened(new Redis(url))
  t.teardown(async () => { await db.flushdb(); await db.quit() })
  const store = new MirrorStore({ client: listened(new Redis(url)), keyPrefix: 'cligrow:', heartbeat: 500, growInPlaceUpTo: 100, ownsClient: true, log: logger.log })
  await store.start()
  t.teardown(() => store.close())
  const exp = String(Math.floor(Date.now() / 1000) + 3600)
  const revoked: RevocationClaims[] = []
  const failures: string[] = []
  while (store.status().synced && revoked.length < 5000) {
    // Fifty operators at once, each a CLI run with its own connection; every second one names a subject.
    const batch = Array.from({ length: 50 }, (_, i) => ({ jti: `cli-${revoked.length + i}`, sub: i % 2 === 0 ? 'cli-grower' : undefined }))
    const runs = await Promise.all(batch.map(async (claims) => await cli([
      'revoke', '--jti', claims.jti, '--exp', exp, ...(claims.sub === undefined ? [] : ['--sub', claims.sub]),
      '--force', '--redis-url', url, '--key-prefix', 'cligrow:'
    ])))
    failures.push(...runs.filter((run) => run.code !== 0).map((run) => run.stderr))
    revoked.push(...batch.map((claims) => ({ ...claims, iat: 1 })))
  }
  t.same(failures, [], 'every CLI run exited 0')
  t.equal(store.status().synced, false, `out of sync once full, after ${revoked.length} CLI revocations`)
  t.ok(logs.lines.some((line) => String((line.reason as string | undefined) ?? '').includes('grows at a resync')), 'because it must grow')
  t.same(await notRefused(store, revoked), [], 'meanwhile Redis refuses every one of them')
  await waitFor('in sync again', () => store.status().synced, 20_000)
  t.equal(store.status().entries, revoked.length, 'the larger table holds every CLI revocation')
  t.same(await notRefused(store, revoked), [], 'and the copy refuses every one')
})

t.test('mirror mode with onStoreError allow passes while out of sync, and needs the Redis store', async (t) => {
  const proxy = await startTcpProxy(server.port)
  t.teardown(() => proxy.close())
  const allowing = await mirrorApp(t, `redis://127.0.0.1:${proxy.port}`, { onStoreError: 'allow' })
  const token = allowing.sign()
  proxy.cut()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal((await allowing.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.ok(allowing.app.jwtRevoke.stats().failOpenPasses >= 1)
  await t.rejects(buildApp({ store: 'memory', mode: 'mirror' }), { code: 'FST_JWT_REVOKE_INVALID_OPTION', message: /"mode"/ })
})

t.test('Redis down at boot: the server starts, fails closed, and syncs once Redis is there', async (t) => {
  const proxy = await startTcpProxy(server.port)
  t.teardown(() => proxy.close())
  proxy.cut()
  const started = Date.now()
  const late = await mirrorApp(t, `redis://127.0.0.1:${proxy.port}`)
  t.ok(Date.now() - started < 5000, 'register did not wait for Redis')
  const token = late.sign()
  t.equal((await late.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503)
  proxy.restore()
  t.ok(await until(late.app, token, 200) < 10_000)
})

t.test('what the mirror will not take: foreign messages are ignored, a full mirror hands its checks to Redis', async (t) => {
  const writer = await mirrorApp(t)
  await admin.set('jwt-revoke:{by-hand}:jti:forever', '1')
  const small = await mirrorApp(t, server.url, { maxEntries: await admin.dbsize() + 2 })
  const token = writer.sign()
  await admin.publish('jwt-revoke:mirror', 'not json')
  await admin.publish('jwt-revoke:mirror', JSON.stringify(['p', 'someone-else']))
  t.equal((await small.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  const revoked = writer.sign()
  for (let i = 0; i < 3; i++) await writer.app.revoke(i === 0 ? revoked : writer.sign())
  await waitFor('out of sync once full', () => small.app.jwtRevoke.stats().mirror?.synced === false, 5000)
  t.equal((await small.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'full, it answers from Redis: a valid token passes')
  t.equal((await small.app.inject({ url: '/me', headers: bearer(revoked) })).statusCode, 401, 'and a revocation it could not hold is refused')
  const fresh = await mirrorApp(t)
  t.equal(await fresh.app.isRevoked({ sub: 'by-hand', jti: 'forever' }), true, 'a key written by hand without TTL is loaded too')
})

t.test('a sync that fails is retried until it succeeds', async (t) => {
  const proxy = await startTcpProxy(server.port)
  t.teardown(() => proxy.close())
  proxy.cut()
  const client = listened(new Redis(proxy.port, '127.0.0.1'))
  client.on('error', () => {})
  const logs = collectLogs('warn')
  const log = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => log.close())
  const store = new MirrorStore({ client, heartbeat: 50, ownsClient: true, log: log.log })
  t.teardown(() => store.close())
  await t.rejects(store.start(), { code: 'FST_JWT_REVOKE_STORE_UNAVAILABLE' }, 'start() says the first sync failed')
  t.equal(store.status().synced, false)
  t.ok(logs.lines.some((line) => String(line.msg).includes('could not sync')))
  proxy.restore()
  const started = Date.now()
  while (!store.status().synced && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(store.status().synced, true)
})

t.test('while it loads, Redis answers its checks (never a 503), and the switch to its copy keeps what was revoked meanwhile', async (t) => {
  // Enough entries that the load takes many SCAN steps, with checks and writes in between.
  await admin.eval('for i = 1, 100000 do redis.call(\'SET\', \'loading:{user-\' .. (i % 1000) .. \'}:jti:bulk-\' .. i, \'1\', \'EX\', 600) end', 0)
  const writer = new RedisStore({ client: admin, keyPrefix: 'loading:' })
  const mirror = new MirrorStore({ client: listened(new Redis(server.url)), keyPrefix: 'loading:', ownsClient: true, maxEntries: 200_000 })
  t.teardown(() => mirror.close())
  const starting = mirror.start()
  const revoked: RevocationClaims[] = [{ jti: 'bulk-7', sub: 'user-7' }]
  const valid = { jti: 'never-revoked', sub: 'user-7', iat: Math.floor(Date.now() / 1000) }
  let byRedis = 0
  let wrong = 0
  for (let i = 0; !mirror.status().synced || i < 5; i++) {
    // Writes before, during and just after the switch: every one must be in the copy once it is in sync.
    const claims = { jti: `during-${i}`, sub: `user-${i % 10}` }
    await writer.revoke(claims, 600)
    revoked.push(claims)
    for (const [one, expected] of [[revoked[0], true], [claims, true], [valid, false]] as const) {
      const answer = mirror.isRevoked(one as RevocationClaims)
      if (answer instanceof Promise) byRedis++
      if (await answer !== expected) wrong++
    }
  }
  await starting
  t.ok(byRedis > 0, `${byRedis} checks made while it loaded were answered by Redis`)
  t.equal(wrong, 0, 'every one of them rightly')
  t.same(await notRefused(mirror, revoked), [], `in sync, its copy holds all ${revoked.length} revocations made while it loaded and at the switch`)
  t.equal(mirror.isRevoked(valid), false, 'and answers a valid token itself, at once')
  t.ok(mirror.status().entries >= 100_000)
})

t.test('the copy refuses only what Redis confirms, unless Redis cannot answer in time', async (t) => {
  const proxy = await startTcpProxy(server.port)
  t.teardown(() => proxy.close())
  const mirror = new MirrorStore({ client: listened(new Redis(proxy.port, '127.0.0.1')), keyPrefix: 'confirm:', ownsClient: true, confirmTimeout: 50 })
  t.teardown(() => mirror.close())
  await mirror.start()
  // Published without their keys, as an entry sharing a fingerprint with a valid token would look: the copy matches,
  // Redis holds nothing.
  const iat = Math.floor(Date.now() / 1000)
  await admin.publish('confirm:mirror', JSON.stringify(['t', jtiEntry('ghost', 'someone'), 600]))
  await admin.publish('confirm:mirror', JSON.stringify(['c', cutoffEntry('ghost-subject'), iat + 1, 600]))
  await waitFor('the copy holds both', () => mirror.isRevoked({ jti: 'ghost', sub: 'someone' }) !== false && mirror.isRevoked({ sub: 'ghost-subject', iat }) !== false)
  t.equal(await mirror.isRevoked({ jti: 'ghost', sub: 'someone' }), false, 'a token match Redis does not confirm passes')
  t.equal(await mirror.isRevoked({ sub: 'ghost-subject', iat }), false, 'and so does a cutoff match')
  await new RedisStore({ client: admin, keyPrefix: 'confirm:' }).revoke({ jti: 'real', sub: 'someone' }, 600)
  await waitFor('the copy holds it', () => mirror.isRevoked({ jti: 'real', sub: 'someone' }) !== false)
  t.equal(await mirror.isRevoked({ jti: 'real', sub: 'someone' }), true, 'a revocation Redis confirms is refused')
  proxy.blackhole()
  const started = Date.now()
  t.equal(await mirror.isRevoked({ jti: 'real', sub: 'someone' }), true, 'Redis silent: the copy\'s word stands')
  t.ok(Date.now() - started < 1000, `after the confirmation's deadline (${Date.now() - started} ms)`)
  t.equal(mirror.isRevoked({ jti: 'other', sub: 'someone' }), false, 'what the copy lacks needs no Redis')
  proxy.restore()
})
