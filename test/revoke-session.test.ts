// Revocation by session (the OpenID Connect `sid` claim): every store, every writer (plugin, mirror, CLI), the Cluster.
import { Redis } from 'ioredis'
import t from 'tap'
import { DenyList, MemoryStore, type RevocationStore } from '../index.js'
import { entryKind, sessionEntry, sessionKey } from '../lib/keys.js'
import { parseMessage } from '../lib/stores/mirror-message.js'
import { bearer, buildApp, storeVariants } from './helpers/app.js'
import { cli } from './helpers/cli-run.js'
import { statusWithin } from './helpers/mirror.js'
import { startClusterFor } from './helpers/redis-cluster.js'
import { listened, startRedisFor } from './helpers/redis-server.js'

t.setTimeout(120_000)
const now = (): number => Math.floor(Date.now() / 1000)

t.test('keys and messages know the session shape', async (t) => {
  t.equal(sessionEntry('s-1'), '{s-1}:sid')
  t.equal(sessionKey('p:', 's-1'), 'p:{s-1}:sid')
  t.match(sessionEntry('a session:{with}'), /^\{~[A-Za-z0-9_-]{43}\}:sid$/, 'any sid is encoded into one hash tag')
  t.equal(entryKind('{s-1}:sid'), 'session')
  t.equal(entryKind(sessionEntry('x y')), 'session')
  t.equal(entryKind('{s-1}:cutoff'), 'cutoff')
  t.equal(entryKind('{s-1}:sid:x'), undefined)
  t.same(parseMessage(JSON.stringify(['s', '{s-1}:sid', 5, 10])), ['s', '{s-1}:sid', 5, 10])
  t.equal(parseMessage(JSON.stringify(['s', '{s-1}:cutoff', 5, 10])), undefined, 'a session message names a session entry')
  t.equal(parseMessage(JSON.stringify(['c', '{s-1}:sid', 5, 10])), undefined, 'and a subject message a subject entry')
  t.equal(parseMessage(JSON.stringify(['s', '{s-1}:sid', 5])), undefined)
})

t.test('the deny-list keeps sessions apart from subjects, keeps the later cutoff and sweeps them', async (t) => {
  let clock = 1_000_000
  const list = new DenyList({ now: () => clock, maxEntries: 2 })
  list.addSession('same', 100, clock + 1000)
  t.equal(list.has(undefined, 'same', 50), false, 'a subject named like a session is not cut')
  t.equal(list.has(undefined, undefined, 100, 'same'), true, 'issued at the cutoff: refused')
  t.equal(list.has(undefined, undefined, 101, 'same'), false, 'issued after: accepted')
  t.equal(list.has(undefined, undefined, undefined, 'same'), true, 'no iat cannot prove it came after')
  list.addSession('same', 50, clock + 1000)
  t.equal(list.has(undefined, undefined, 80, 'same'), true, 'an older cutoff never shortens the revocation')
  list.addSession('same', 100, clock + 10)
  clock += 500
  t.equal(list.has(undefined, undefined, 100, 'same'), true, 'a shorter TTL never ends it sooner')
  list.addSession('same', 120, clock + 10)
  clock += 100
  t.equal(list.has(undefined, undefined, 110, 'same'), true, 'a later cutoff moves it forward, keeping the longer TTL')
  clock -= 600
  list.addCutoff('sub', 10, clock + 1000)
  t.equal(list.size, 2)
  t.throws(() => { list.addSession('other', 1, clock + 1000) }, { code: 'FST_JWT_REVOKE_STORE_FULL' }, 'sessions count against maxEntries')
  clock += 2000
  t.equal(list.has(undefined, undefined, 1, 'same'), false, 'an expired session cutoff is dropped')
  list.addSession('again', 1, clock + 1)
  clock += 10
  t.equal(list.sweep(), 2, 'the sweep drops expired sessions and subjects')
  t.equal(list.size, 0)
})

t.test('every store: revokeSession refuses that session\'s tokens and no other', async (t) => {
  for (const variant of await storeVariants(t)) {
    await t.test(variant.name, async (t) => {
      const { app, sign } = await buildApp(variant.options())
      t.teardown(() => app.close())
      const mine = sign({ sub: 'alice', sid: 'sess-a' })
      const mineToo = sign({ sub: 'alice', sid: 'sess-a' })
      const otherSession = sign({ sub: 'alice', sid: 'sess-b' })
      const noSession = sign({ sub: 'alice' })
      const noSubject = sign({ sub: undefined, sid: 'sess-a' })
      for (const token of [mine, otherSession, noSession, noSubject]) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
      const cutoff = await app.revokeSession('sess-a')
      t.ok(Math.abs(cutoff - Date.now() / 1000) < 5, 'resolves with the cutoff')
      for (const token of [mine, mineToo, noSubject]) {
        const response = await app.inject({ url: '/me', headers: bearer(token) })
        t.equal(response.statusCode, 401, 'every token of the session is refused, with or without sub')
        t.equal(response.json().code, 'FST_JWT_REVOKED')
      }
      t.equal((await app.inject({ url: '/verified', headers: bearer(mine) })).statusCode, 401, 'request.jwtVerify() too')
      for (const token of [otherSession, noSession]) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, "the user's other sessions pass")
      t.equal(await app.isRevoked(mine), true, 'isRevoked knows it (string)')
      t.equal(await app.isRevoked({ sub: 'alice', sid: 'sess-a', iat: now() - 1 }), true, 'isRevoked knows it (payload)')
      t.equal(await app.isRevoked({ sub: null, sid: 'sess-a', iat: now() - 1 }), true, 'a payload with only sid (and sub: null, as every payload object must say its subject)')
      await t.rejects(app.isRevoked({ sid: 'sess-a', iat: now() - 1 }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT' }, 'a payload object without sub is refused, as for revoke()')
      t.equal(await app.isRevoked({ sub: 'alice', sid: 'sess-b', iat: now() }), false)

      await app.revokeSession('sess-c', { before: now() - 100 })
      t.equal((await app.inject({ url: '/me', headers: bearer(sign({ sid: 'sess-c' })) })).statusCode, 200, 'a token issued after the cutoff passes')
      await app.revokeSession('sess-c', { before: new Date(Date.now() - 500_000 * 1000) })
      t.equal(await app.isRevoked({ sub: null, sid: 'sess-c', iat: now() - 200 }), true, 'an older before never shortens a revocation')
      // The app's own mistakes, as for revokeSubject: FST_JWT_REVOKE_INVALID_ARGUMENT (500), naming revokeSession.
      const mistake = { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500, message: /revokeSession/ }
      await t.rejects(app.revokeSession(''), mistake)
      await t.rejects(app.revokeSession(42 as unknown as string), mistake)
      await t.rejects(app.revokeSession('x', { before: now() + 3600 }), mistake, 'a cutoff far ahead is a mistake')
      await t.rejects(app.revokeSession('x', { before: Date.now() }), { ...mistake, message: /milliseconds/ }, 'milliseconds are refused')
      t.equal(await app.isRevoked({ sub: null, sid: 'x', iat: 1 }), false, 'nothing was written by a refused call')
      const malformed = sign({ sid: 42 })
      t.equal((await app.inject({ url: '/me', headers: bearer(malformed) })).json().code, 'FST_JWT_REVOKE_INVALID_CLAIM', 'a sid that is not a string is refused')
      if (variant.client !== undefined) {
        const ttl = await variant.client.ttl('jwt-revoke:{sess-a}:sid')
        t.ok(ttl > 30 * 24 * 3600 && ttl <= 30 * 24 * 3600 + 61, `kept as long as a subject cutoff (${ttl} s)`)
      }
    })
  }
})

t.test('a store without revokeSession: the app is told, nothing is pretended', async (t) => {
  const memory = new MemoryStore()
  const store: RevocationStore = { isRevoked: (claims) => memory.isRevoked(claims), revoke: memory.revoke.bind(memory), revokeSubject: memory.revokeSubject.bind(memory) }
  const { app } = await buildApp({ store })
  t.teardown(() => app.close())
  await t.rejects(app.revokeSession('s'), { code: 'FST_JWT_REVOKE_UNSUPPORTED_SETUP' })
})

t.test('mirrors: a session revoked on one instance is refused by every mirror, and loaded by a new one', async (t) => {
  const server = await startRedisFor(t)
  const mirror = async (): Promise<Awaited<ReturnType<typeof buildApp>>> => {
    const built = await buildApp({ store: 'redis', redis: server.url, mode: 'mirror', storeTimeout: 500 })
    t.teardown(() => built.app.close())
    return built
  }
  const [a, b] = [await mirror(), await mirror()]
  const lookup = await buildApp({ store: 'redis', redis: server.url })
  t.teardown(() => lookup.app.close())
  const token = a.sign({ sub: 'bob', sid: 'mirror-session' })
  const other = a.sign({ sub: 'bob', sid: 'other-session' })
  await lookup.app.revokeSession('mirror-session')
  t.ok(await statusWithin(a.app, token, 401) < 5000, 'a lookup instance writes, mirror a refuses')
  t.ok(await statusWithin(b.app, token, 401) < 5000, 'and mirror b')
  t.equal((await b.app.inject({ url: '/me', headers: bearer(other) })).statusCode, 200, 'the other session passes')
  await b.app.revokeSession('mirror-session-2')
  t.equal(await b.app.isRevoked({ sub: null, sid: 'mirror-session-2', iat: now() - 1 }), true, 'the writing mirror refuses at once')
  const c = await mirror()
  t.equal((await c.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'a mirror started later loads the session')
  t.equal((await c.app.inject({ url: '/me', headers: bearer(other) })).statusCode, 200)
})

t.test('the CLI revokes and checks sessions, and counts them', async (t) => {
  const server = await startRedisFor(t)
  const client = listened(new Redis(server.url))
  t.teardown(() => client.quit())
  const env = { REDIS_URL: server.url }
  const { app, sign } = await buildApp({ store: 'redis', redis: server.url })
  t.teardown(() => app.close())
  const token = sign({ sub: 'carol', sid: 'cli-session' })
  const refused = await cli(['revoke-session', 'cli-session', '--json'], env)
  t.equal(refused.code, 2, 'a prefix holding no entry: nothing written without --force')
  t.match(refused.stderr, /holds no entry/)
  t.equal((await cli(['revoke-session', 'x', '--before', String(Date.now()), '--force'], env)).code, 2, '--before in milliseconds is refused')
  t.equal((await cli(['revoke-session', 'x', '--before', String(now() + 3600), '--force'], env)).code, 2, '--before beyond the clock skew is refused')
  t.equal(await client.dbsize(), 0, 'nothing was written')
  const revoked = await cli(['revoke-session', 'cli-session', '--json', '--force'], env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(JSON.parse(revoked.stdout), { ok: true, command: 'revoke-session', sid: 'cli-session', written: true })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'the plugin refuses what the CLI revoked')
  t.equal((await cli(['check', token], env)).code, 1, 'check <token> reads the sid')
  t.equal((await cli(['check', '--sid', 'cli-session', '--iat', String(now() - 5)], env)).code, 1)
  t.equal((await cli(['check', '--sid', 'another'], env)).code, 0)
  const text = await cli(['revoke-session', 'old', '--before', String(now() - 40 * 24 * 3600)], env)
  t.match(text.stdout, /^Nothing to do: every token of session sid=old issued/)
  t.match((await cli(['revoke-session', 'text-session'], env)).stdout, /^Revoked every token of session sid=text-session issued at or before .*longer TTL already stored for this session is kept/)
  t.match(JSON.parse((await cli(['stats', '--json'], env)).stdout), { sessions: 2, subjects: 0 })
  t.equal((await cli(['revoke-session', ''], env)).code, 2)
  t.equal((await cli(['revoke-session'], env)).code, 2)
  t.equal((await cli(['revoke', '--jti', 'j', '--exp', '1', '--sid', 's'], env)).code, 2, 'revoke takes no --sid')
  const prefixOnly = await cli(['revoke-session', 'first', '--key-prefix', 'fresh:'], env)
  t.equal(prefixOnly.code, 2, 'an empty prefix is refused')
  t.equal((await cli(['revoke-session', 'first', '--key-prefix', 'fresh:', '--force'], env)).code, 0, 'unless forced')
  const second = await cli(['revoke-session', 'second', '--key-prefix', 'fresh:'], env)
  t.same([second.code, second.stderr], [0, ''], 'a prefix holding only sessions is in use')
})

t.test('Redis Cluster: the session key in another slot costs a second command, sent at once', async (t) => {
  const cluster = await startClusterFor(t)
  const { app, sign } = await buildApp({ store: 'redis', redis: cluster.client(), storeTimeout: 2000 })
  t.teardown(() => app.close())
  // A session whose key is served by another primary than the subject's keys.
  const sub = 'cluster-user'
  const subjectSlot = await cluster.keySlot(`{${sub}}`)
  let sid = ''
  for (let i = 0; sid === ''; i++) {
    if (await cluster.ownerOf(await cluster.keySlot(sessionKey('jwt-revoke:', `s${i}`))) !== await cluster.ownerOf(subjectSlot)) sid = `s${i}`
  }
  const token = sign({ sub, sid })
  const sessionOnly = sign({ sub: undefined, sid })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await app.revokeSession(sid)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'refused although its keys span two nodes')
  t.equal((await app.inject({ url: '/me', headers: bearer(sessionOnly) })).statusCode, 401, 'a token without sub: its jti key and its session key, two slots')
  const live = sign({ sub, sid: 'live' })
  t.equal((await app.inject({ url: '/me', headers: bearer(live) })).statusCode, 200)
  await app.revokeSubject(sub)
  t.equal((await app.inject({ url: '/me', headers: bearer(live) })).statusCode, 401, 'the subject cutoff is still read beside it')
  t.equal((await app.inject({ url: '/me', headers: bearer(sign({ sub, sid: 'live' })) })).statusCode, 200, 'a login after revokeSubject resolved passes')

  // A mirror on the Cluster loads the session (its node's SCAN and GET) and hears a new one from the lookup instance.
  const mirror = await buildApp({ store: 'redis', redis: cluster.client(), mode: 'mirror', storeTimeout: 2000 })
  t.teardown(() => mirror.app.close())
  t.equal(mirror.app.jwtRevoke.stats().mirror?.synced, true)
  t.equal((await mirror.app.inject({ url: '/me', headers: bearer(sessionOnly) })).statusCode, 401, 'a mirror loads the session cutoff from its node')
  const later = sign({ sub, sid: `${sid}-later` })
  t.equal((await mirror.app.inject({ url: '/me', headers: bearer(later) })).statusCode, 200)
  await app.revokeSession(`${sid}-later`)
  t.ok(await statusWithin(mirror.app, later, 401) < 5000, 'and hears a session revoked on the lookup instance')
})
