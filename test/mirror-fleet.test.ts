// Mixed fleets on one Redis: lookup and mirror instances, the ops CLI and a RedisStore built by hand all write; every
// mirror must hear every writer, whatever keyPrefix its client has, and must never call itself in sync when it may
// have missed a write. Real redis-server processes; faults are made with CLIENT KILL and real TTLs.
import type { FastifyInstance } from 'fastify'
import { Redis, type RedisOptions } from 'ioredis'
import t, { type Test } from 'tap'
import { MirrorStore, RedisStore, type JwtRevokeOptions, type RevocationClaims } from '../index.js'
import { bearer, buildApp, collectLogs, type TestApp } from './helpers/app.js'
import { cli } from './helpers/cli-run.js'
import { notRefused, statusWithin, waitFor, writesDuringStart } from './helpers/mirror.js'
import { startRedisFor } from './helpers/redis-server.js'

const server = await startRedisFor(t)
const admin = new Redis(server.url)
t.teardown(() => admin.quit())
const now = (): number => Math.floor(Date.now() / 1000)

function client (t: Test, options: RedisOptions = {}, url = server.url): Redis {
  const made = new Redis(url, { maxRetriesPerRequest: 1, ...options })
  t.teardown(() => made.quit().catch(() => made.disconnect()))
  return made
}

async function instance (t: Test, options: JwtRevokeOptions): Promise<TestApp> {
  const built = await buildApp({ store: 'redis', storeTimeout: 500, ...options })
  t.teardown(() => built.app.close())
  return built
}

async function status (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
}

function claimsOf (app: TestApp, token: string): { jti: string, sub: string, exp: number } {
  return app.app.jwt.decode<{ jti: string, sub: string, exp: number }>(token) as { jti: string, sub: string, exp: number }
}

t.test('a mixed fleet on one Redis: every writer is heard by every mirror, and a mirror started later loads it all', async (t) => {
  const lookup = await instance(t, { redis: client(t) })
  const mirrors = [await instance(t, { redis: client(t), mode: 'mirror' }), await instance(t, { redis: client(t), mode: 'mirror' })]
  const byHand = new RedisStore({ client: client(t) })
  const tokens: Record<string, string> = {}
  for (const writer of ['lookup', 'mirror', 'cli revoke', 'cli revoke-subject', 'RedisStore']) tokens[writer] = lookup.sign({ sub: `fleet-${writer.replace(' ', '-')}` })
  for (const { app } of [lookup, ...mirrors]) for (const token of Object.values(tokens)) t.equal(await status(app, token), 200)

  await lookup.app.revoke(tokens.lookup as string)
  await (mirrors[0] as TestApp).app.revoke(tokens.mirror as string)
  const viaCli = claimsOf(lookup, tokens['cli revoke'] as string)
  t.equal((await cli(['revoke', '--jti', viaCli.jti, '--sub', viaCli.sub, '--exp', String(viaCli.exp)], { REDIS_URL: server.url })).code, 0)
  const cutoff = claimsOf(lookup, tokens['cli revoke-subject'] as string)
  t.equal((await cli(['revoke-subject', cutoff.sub, '--before', String(now() + 1)], { REDIS_URL: server.url })).code, 0)
  const manual = claimsOf(lookup, tokens.RedisStore as string)
  await byHand.revoke({ jti: manual.jti, sub: manual.sub }, 600)

  for (const [writer, token] of Object.entries(tokens)) {
    t.equal(await status(lookup.app, token), 401, `the lookup instance refuses at once what ${writer} revoked`)
    for (const [i, { app }] of mirrors.entries()) {
      t.ok(await statusWithin(app, token, 401, 2000) < 2000, `mirror ${i} hears what ${writer} revoked`)
    }
  }
  const late = await instance(t, { redis: client(t), mode: 'mirror' })
  for (const [writer, token] of Object.entries(tokens)) t.equal(await status(late.app, token), 401, `a mirror started later loaded what ${writer} revoked`)
  t.equal(late.app.jwtRevoke.stats().mirror?.synced, true)
  t.equal(await status(late.app, lookup.sign({ sub: 'fleet-lookup' })), 200, 'a token nobody revoked passes')
})

t.test('a client with its own keyPrefix, in each mode: load, live updates, writes and lookups see the same entries', async (t) => {
  const app1 = (): Redis => client(t, { keyPrefix: 'app1:' })
  const lookup = await instance(t, { redis: app1() })
  const mirror = await instance(t, { redis: app1(), mode: 'mirror' })
  // Another app on the same Redis under another client prefix: the same plugin keyPrefix, yet none of app1's business.
  const app2 = await instance(t, { redis: client(t, { keyPrefix: 'app2:' }), mode: 'mirror' })
  const [a, b, c] = [lookup.sign({ sub: 'pre-a' }), lookup.sign({ sub: 'pre-b' }), lookup.sign({ sub: 'pre-c' })]

  await lookup.app.revoke(a)
  t.ok(await statusWithin(mirror.app, a, 401, 2000) < 2000, 'the mirror hears the lookup instance')
  const { jti, sub } = claimsOf(lookup, a)
  t.equal(await admin.exists(`app1:jwt-revoke:{${sub}}:jti:${jti}`), 1, 'the key carries both prefixes in Redis')
  await mirror.app.revoke(b)
  t.equal(await status(lookup.app, b), 401, 'the lookup instance sees what the mirror wrote')
  const viaCli = claimsOf(lookup, c)
  const written = await cli(['revoke', '--jti', viaCli.jti, '--sub', viaCli.sub, '--exp', String(viaCli.exp), '--key-prefix', 'app1:jwt-revoke:'], { REDIS_URL: server.url })
  t.equal(written.code, 0, 'the CLI, given the client prefix and the plugin prefix as --key-prefix')
  t.equal(await status(lookup.app, c), 401)
  t.ok(await statusWithin(mirror.app, c, 401, 2000) < 2000, 'the mirror hears the CLI')
  const stats = await cli(['stats', '--json', '--key-prefix', 'app1:jwt-revoke:'], { REDIS_URL: server.url })
  t.equal((JSON.parse(stats.stdout) as { tokens: number }).tokens, 3, 'the CLI counts the three entries')

  const late = await instance(t, { redis: app1(), mode: 'mirror' })
  for (const token of [a, b, c]) t.equal(await status(late.app, token), 401, 'a mirror started later loads them through its prefixed client')
  t.equal(late.app.jwtRevoke.stats().mirror?.entries, 3)
  const unprefixed = await instance(t, { redis: client(t), keyPrefix: 'app1:jwt-revoke:', mode: 'mirror' })
  t.equal(await status(unprefixed.app, a), 401, 'a client without prefix and the whole prefix as keyPrefix: the same entries')

  for (const token of [a, b, c]) t.equal(await status(app2.app, token), 200, 'the other app neither hears nor loads them')
  t.equal(app2.app.jwtRevoke.stats().mirror?.entries, 0)
  await app2.app.revoke(a)
  t.equal(await status(app2.app, a), 401)
  t.equal(await admin.exists(`app2:jwt-revoke:{${sub}}:jti:${jti}`), 1)
})

/** A Redis of its own where a mirror's SCAN is long: 300 000 keys of another app (hundreds of round trips), none ours. */
async function longScanRedis (t: Test): Promise<Redis> {
  const own = await startRedisFor(t)
  const ownAdmin = client(t, {}, own.url)
  for (let batch = 0; batch < 300; batch++) {
    await ownAdmin.mset(Array.from({ length: 1000 }, (_, i) => [`other-app:${batch}:${i}`, 'x']).flat())
  }
  return ownAdmin
}

async function scanRunning (admin: Redis): Promise<void> {
  await waitFor('a SCAN running', async () => /cmd=(scan|eval)/.test(String(await admin.client('LIST'))), 5000)
}

async function warnings (t: Test): Promise<{ log: FastifyInstance['log'], lines: Array<Record<string, unknown>> }> {
  const logs = collectLogs('warn')
  const logger = (await buildApp({}, {}, { logger: logs.logger })).app
  t.teardown(() => logger.close())
  return { log: logger.log, lines: logs.lines }
}

t.test('the subscriber killed in the middle of a long SCAN: that sync is not trusted, and no revocation is lost', async (t) => {
  const ownAdmin = await longScanRedis(t)
  const writer = new RedisStore({ client: ownAdmin })
  const { log, lines } = await warnings(t)
  const mirror = new MirrorStore({ client: ownAdmin.duplicate(), ownsClient: true, heartbeat: 200, log })
  t.teardown(() => mirror.close())
  const started = mirror.start()
  await scanRunning(ownAdmin)
  t.equal(Number(await ownAdmin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')), 1, 'the subscriber is killed mid-SCAN')
  // Written at once: many land while the mirror is not subscribed; their messages are lost to it.
  const revoked = Array.from({ length: 100 }, (_, i) => ({ jti: `gap-${i}`, sub: `gap-user-${i % 7}` }))
  await Promise.all(revoked.map((claims) => writer.revoke(claims, 600)))
  // The first sync may also fail outright (its new subscription refused while the connection comes back): retried.
  await started.catch(() => {})
  await waitFor('in sync', () => mirror.status().synced)
  t.ok(lines.some((line) => String(line.msg).includes('lost its subscription while it synced')), 'the sync saw the loss and started again')
  const missed = await notRefused(mirror, revoked)
  t.same(missed, [], 'every revocation made in the gap is enforced once in sync')
  t.equal(mirror.status().entries, 100)
})

t.test('messages heard during a long SCAN overflow the list being loaded: that sync fails, and the next one succeeds', async (t) => {
  const ownAdmin = await longScanRedis(t)
  const { log, lines } = await warnings(t)
  const mirror = new MirrorStore({ client: ownAdmin.duplicate(), ownsClient: true, maxEntries: 3, heartbeat: 100, log })
  t.teardown(() => mirror.close())
  const started = mirror.start()
  await scanRunning(ownAdmin)
  // Published without their keys (as if their writes expired at once): only the messages can fill the list.
  for (let i = 0; i < 4; i++) await ownAdmin.publish('jwt-revoke:mirror', JSON.stringify(['t', `{loading}:jti:during-${i}`, 60]))
  await t.rejects(started, { code: 'FST_JWT_REVOKE_STORE_FULL' }, 'start() says why the first sync failed')
  t.equal(mirror.status().synced, false, 'four entries do not fit in three')
  t.ok(lines.some((line) => String((line.err as { message?: string } | undefined)?.message).includes('maxEntries')), 'the failed sync says why')
  await waitFor('in sync at the next attempt', () => mirror.status().synced, 5000)
  await waitFor('what that sync heard, no longer in Redis, swept', () => mirror.status().entries === 0, 2000)
})

t.test('a mirror closed before it ever started closes cleanly', async (t) => {
  const mirror = new MirrorStore({ client: client(t, { lazyConnect: true }) })
  await mirror.close()
  t.equal(mirror.status().synced, false)
})

t.test('an overflowed mirror hands its checks to Redis, and recovers by itself once entries expire', async (t) => {
  const mirror = new MirrorStore({ client: client(t), keyPrefix: 'overflow:', maxEntries: 4, heartbeat: 50 })
  t.teardown(() => mirror.close())
  const built = await buildApp({ store: mirror, onStoreError: 'allow' })
  t.teardown(() => built.app.close())
  const writer = new RedisStore({ client: admin, keyPrefix: 'overflow:' })
  const kept = built.sign({ sub: 'keeper' })
  await writer.revoke(claimsOf(built, kept), 600)
  t.ok(await statusWithin(built.app, kept, 401, 2000) < 2000)

  for (let i = 0; i < 4; i++) await writer.revoke({ jti: `short-${i}`, sub: 'filler' }, 1)
  await waitFor('out of sync once full', () => !mirror.status().synced, 2000)
  t.equal(await status(built.app, kept), 401, 'full, it asks Redis: a revoked token is still refused, even under allow')
  t.equal(await status(built.app, built.sign({ sub: 'keeper' })), 200, 'and a valid one passes')
  t.equal(built.app.jwtRevoke.stats().failOpenPasses, 0, 'no check failed open')
  const waited = await waitFor('in sync again', () => mirror.status().synced, 15_000)
  t.ok(waited > 0, `recovered ${waited} ms after overflowing, once the short entries expired`)
  t.equal(await status(built.app, kept), 401, 'what was revoked before is refused from the mirror again')
  await waitFor('the expired entries swept', () => mirror.status().entries === 1, 2000)
})

t.test('odd ids: the load files every entry by its shape, whatever its jti and sub', async (t) => {
  const writer = new RedisStore({ client: admin, keyPrefix: 'odd:' })
  const iat = now()
  const cases: Array<{ jti: string, sub?: string }> = [
    { jti: 'cutoff', sub: 'user-odd' }, { jti: 'jti', sub: 'cutoff' }, { jti: 'cutoff' }, { jti: 'jti' },
    { jti: 'a:b', sub: 'c:jti:d' }, { jti: '{x}', sub: '{y}:cutoff' }, { jti: 'x'.repeat(300), sub: 'ü' }, { jti: '~abc', sub: 'jti' },
    { jti: 'cutoff:cutoff', sub: ':cutoff' }
  ]
  for (const claims of cases) await writer.revoke(claims, 600)
  await writer.revokeSubject('jti:cutoff', iat, 600)
  // Keys under the prefix that this package never writes: another app's, or written by hand.
  await admin.set('odd:{x}:other', '1')
  await admin.set('odd:{a}:jti:b:c', '1')
  await admin.set('odd:{a}:cutoff:x', '1')
  const mirror = new MirrorStore({ client: client(t), keyPrefix: 'odd:' })
  t.teardown(() => mirror.close())
  await mirror.start()
  t.equal(mirror.status().entries, cases.length + 1, 'exactly the entries written, no stranger')
  const probes = [...cases, { jti: 'fresh', sub: 'user-odd', iat }, { jti: 'fresh', sub: 'cutoff', iat }, { jti: 'other' },
    { jti: 'fresh', sub: 'jti:cutoff', iat }, { jti: 'fresh', sub: 'jti:cutoff', iat: iat + 1 }, { jti: 'cutoff', sub: 'user-odd-2' }]
  for (const claims of probes) {
    const revoked = await writer.isRevoked(claims)
    // What the mirror holds, it has Redis confirm: what it does not hold it answers false at once, without asking.
    const answer = mirror.isRevoked(claims)
    t.equal(typeof answer === 'boolean' ? answer : 'held', revoked ? 'held' : false, `mirror and lookup agree on ${JSON.stringify(claims).slice(0, 80)}`)
    t.equal(await answer, revoked)
  }
  t.same(await notRefused(mirror, cases), [], 'every odd revocation is enforced')
  t.equal(await mirror.isRevoked({ jti: 'fresh', sub: 'user-odd', iat }), false, 'a jti named cutoff is no subject cutoff')
})

t.test('revocations made while a mirror starts, and at once after, all reach it: no gap between subscribing, loading and going live', async (t) => {
  // A write can land before the subscription, during the SCAN, while the end marker travels, or just after the sync:
  // writesDuringStart spreads 20 over each round. With what is heard during the load dropped (mutation check), every
  // writer's rounds fail here, as the Cluster's do in mirror-cluster.test.ts.
  const writer = new RedisStore({ client: client(t), keyPrefix: 'start:' })
  const byStore = async (round: number, i: number): Promise<RevocationClaims> => {
    const claims = { jti: `start-${round}-${i}`, sub: 'starter' }
    await writer.revoke(claims, 600)
    return { ...claims, iat: now() }
  }
  // The ops CLI (in-process, its own connection each time): revoke and revoke-subject in turn.
  const byCli = async (round: number, i: number): Promise<RevocationClaims> => {
    // --force: the first writes race each other into a prefix that holds nothing yet.
    const target = ['--key-prefix', 'start:', '--redis-url', server.url, '--force']
    const sub = `cli-starter-${round}-${i}`
    const command = i % 2 === 0
      ? ['revoke', '--jti', `cli-${round}-${i}`, '--sub', sub, '--exp', String(now() + 600), ...target]
      : ['revoke-subject', sub, '--before', String(now() + 1), ...target]
    const { code, stderr } = await cli(command)
    if (code !== 0) throw new Error(`the CLI failed: ${stderr}`)
    return i % 2 === 0 ? { jti: `cli-${round}-${i}`, sub } : { jti: 'any', sub, iat: now() - 10 }
  }
  for (const [writerName, write, rounds] of [['a RedisStore', byStore, 12], ['the ops CLI', byCli, 6]] as const) {
    let missed = 0
    for (let round = 0; round < rounds; round++) {
      // Every third round on an empty Redis with no cached script, as on a server that just started.
      if (round % 3 === 0) await admin.pipeline().flushall().script('FLUSH').exec()
      const mirror = new MirrorStore({ client: client(t), keyPrefix: 'start:' })
      if (!await writesDuringStart(mirror, round, async (i) => await write(round, i))) missed++
      await mirror.close()
    }
    t.equal(missed, 0, `no round lost a write by ${writerName} (${rounds} rounds of 20)`)
  }

  // The same through two apps on one Redis: B serves a request, A (each mode) revokes, B refuses it shortly after.
  for (const mode of ['mirror', 'lookup'] as const) {
    await admin.pipeline().flushall().script('FLUSH').exec()
    const b = await instance(t, { redis: client(t), mode: 'mirror' })
    const a = await instance(t, { redis: client(t), mode })
    const token = a.sign()
    t.equal(await status(b.app, token), 200)
    await a.app.revoke(token)
    t.ok(await statusWithin(b.app, token, 401, 2000) < 2000, `a mirror that just started hears a ${mode} instance's revocation`)
  }
})
