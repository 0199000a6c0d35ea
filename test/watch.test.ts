// Open connections end when their token is revoked: request.onRevoked and app.jwtRevoke.watch, through real HTTP
// streams, on the memory store (in process) and on Redis in both modes, whoever writes the revocation: this
// instance, another instance of either mode, the ops CLI. The feed and the hub underneath are tested apart in
// test/watch-feed.test.ts (lost subscriptions, failed checks).
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import jwtRevoke, { MemoryStore, type RevocationStore } from '../index.js'
import { SECRET } from './helpers/app.js'
import { cli } from './helpers/cli-run.js'
import { startRedisFor } from './helpers/redis-server.js'
import { buildWatchApp, openStream, settlesWithin, until, type WatchApp } from './helpers/watch.js'

// Once the watches' first check has answered, a revocation can only reach them through the feed ('token', 'subject').
async function checked ({ app }: WatchApp): Promise<void> {
  await until(() => app.jwtRevoke.watchStatus().pending === 0, 5000, 'the watches are checked')
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

t.test('memory store: a stream ends when its token is revoked, with the reason', async (t) => {
  const { app, base, sign } = await buildWatchApp(t)
  t.same(app.jwtRevoke.watchStatus(), { watched: 0, live: false, gaps: 0, rechecks: 0, pending: 0 }, 'nothing watched, nothing fed')
  const token = sign()
  const other = await openStream(base, sign())
  const stream = await openStream(base, token)
  t.equal(app.jwtRevoke.watchStatus().watched, 2, 'two tokens watched')
  t.equal(app.jwtRevoke.watchStatus().live, true)
  await app.revoke(token)
  t.equal(await stream.ended, 'token')
  t.equal(app.jwtRevoke.watchStatus().watched, 1, 'forgotten once told')
  t.notOk(await settlesWithin(other.ended, 200), 'another token of the same subject stays open')
  other.abort()
})

t.test('memory store: a subject cutoff ends the streams of tokens issued up to it, not later ones', async (t) => {
  const { app, base, sign } = await buildWatchApp(t)
  const iat = nowSeconds()
  const older = await openStream(base, sign({ iat: iat - 100 }))
  const newer = await openStream(base, sign({ iat }))
  const stranger = await openStream(base, sign({ sub: 'user-2', iat: iat - 100 }))
  await app.revokeSubject('user-1', { before: iat - 50 })
  t.equal(await older.ended, 'subject')
  t.notOk(await settlesWithin(newer.ended, 200), 'issued after the cutoff: stays open')
  t.notOk(stranger.done, 'another subject stays open')
  await app.revokeSubject('user-1')
  t.equal(await newer.ended, 'subject', 'a later cutoff covers it')
  t.notOk(await settlesWithin(stranger.ended, 100))
  stranger.abort()
})

t.test('memory store: a session cutoff ends the streams of that session issued up to it, not other sessions', async (t) => {
  const { app, base, sign } = await buildWatchApp(t)
  const iat = nowSeconds()
  const older = await openStream(base, sign({ sid: 'session-1', iat: iat - 100 }))
  const newer = await openStream(base, sign({ sid: 'session-1', iat }))
  const onlySession = await openStream(base, sign({ sub: undefined, sid: 'session-1', iat: iat - 100 }))
  const otherSession = await openStream(base, sign({ sid: 'session-2', iat: iat - 100 }))
  await app.revokeSession('session-1', { before: iat - 50 })
  t.equal(await older.ended, 'session')
  t.equal(await onlySession.ended, 'session', 'a token with a sid and no sub')
  t.notOk(await settlesWithin(newer.ended, 200), 'issued after the cutoff: stays open')
  t.notOk(otherSession.done, 'another session of the same subject stays open')
  await app.revokeSession('session-1')
  t.equal(await newer.ended, 'session', 'a later cutoff covers it')
  t.notOk(await settlesWithin(otherSession.ended, 100))
  otherSession.abort()
})

t.test('memory store: two apps sharing one MemoryStore hear each other', async (t) => {
  const store = new MemoryStore()
  const a = await buildWatchApp(t, { store })
  const b = await buildWatchApp(t, { store })
  const token = a.sign()
  const stream = await openStream(a.base, token)
  await b.app.revoke(token)
  t.equal(await stream.ended, 'token', 'revoked on B, ended on A')
})

t.test('a connection that closes is forgotten', async (t) => {
  const { app, base, sign } = await buildWatchApp(t)
  const streams = await Promise.all(Array.from({ length: 20 }, async () => await openStream(base, sign())))
  t.equal(app.jwtRevoke.watchStatus().watched, 20)
  for (const stream of streams) stream.abort()
  await until(() => app.jwtRevoke.watchStatus().watched === 0, 5000, 'the closed connections are forgotten')
  t.pass('all forgotten')
})

t.test('a token revoked between the request\'s check and the watch ends the stream at once', async (t) => {
  const { base, sign } = await buildWatchApp(t)
  const stream = await openStream(base, sign(), '?revokeFirst=1')
  t.equal(await stream.ended, 'recheck')
})

t.test('a watch the app forgets is never told', async (t) => {
  const { app, base, sign } = await buildWatchApp(t)
  const token = sign()
  const stream = await openStream(base, token, '?stop=1')
  t.equal(app.jwtRevoke.watchStatus().watched, 0)
  await app.revoke(token)
  t.notOk(await settlesWithin(stream.ended, 200), 'the stream is not ended by the plugin')
  stream.abort()
})

t.test('tokens without jti or without sub are watched for what can revoke them', async (t) => {
  const { app } = await buildWatchApp(t, { requireJti: false })
  const iat = nowSeconds() - 10
  const heard: string[] = []
  app.jwtRevoke.watch({ sub: 'no-jti', iat }, ({ reason }) => heard.push(`no-jti ${reason}`))
  const noSub = { jti: 'no-sub', exp: nowSeconds() + 60 }
  app.jwtRevoke.watch(noSub, ({ reason }) => heard.push(`no-sub ${reason}`))
  await app.revokeSubject('no-jti')
  // A payload object passed to revoke() must say its subject (sub: null for a token without one).
  await app.revoke({ ...noSub, sub: null })
  t.same(heard, ['no-jti subject', 'no-sub token'])
})

t.test('request.onRevoked without a verified token is the app\'s mistake', async (t) => {
  const { app } = await buildWatchApp(t)
  const reply = await app.inject('/unverified')
  t.same(reply.json(), { code: 'FST_JWT_REVOKE_UNSUPPORTED_SETUP' })
})

t.test('app.jwtRevoke.watch: once, unsubscribe, a throwing listener, nothing to watch', async (t) => {
  const { app, sign } = await buildWatchApp(t)
  const payload = app.jwt.decode<Record<string, unknown>>(sign()) as Record<string, unknown>
  const heard: string[] = []
  const errors: unknown[] = []
  const logError = app.log.error.bind(app.log)
  app.log.error = ((...args: unknown[]) => { errors.push(args[0]) }) as typeof app.log.error
  t.teardown(() => { app.log.error = logError })
  app.jwtRevoke.watch(payload, () => { throw new Error('listener bug') })
  app.jwtRevoke.watch(payload, ({ reason }) => heard.push(`first ${reason}`))
  const stop = app.jwtRevoke.watch(payload, ({ reason }) => heard.push(`stopped ${reason}`))
  stop()
  stop()
  t.equal(app.jwtRevoke.watchStatus().watched, 2)
  await app.revoke(payload)
  await app.revoke(payload)
  t.same(heard, ['first token'], 'told once; the forgotten watch is not told; a throwing listener stops nobody')
  t.equal(errors.length, 1, 'the throw is logged')
  t.equal(app.jwtRevoke.watchStatus().watched, 0)
  const none = app.jwtRevoke.watch({ exp: nowSeconds() + 60 }, () => heard.push('never'))
  none()
  t.equal(app.jwtRevoke.watchStatus().watched, 0, 'a token with neither jti nor sub cannot be revoked: nothing to watch')
  t.throws(() => app.jwtRevoke.watch({ jti: 42 }, () => {}), { code: 'FST_JWT_REVOKE_INVALID_CLAIM' })
})

t.test('a custom store announces nothing: watching is refused', async (t) => {
  const memory = new MemoryStore()
  const custom: RevocationStore = {
    isRevoked: (claims) => memory.isRevoked(claims),
    revoke: async (claims, ttl) => { await memory.revoke(claims, ttl) },
    revokeSubject: async (sub, cutoff, ttl) => { await memory.revokeSubject(sub, cutoff, ttl) }
  }
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke, { store: custom })
  await app.ready()
  t.teardown(() => app.close())
  t.throws(() => app.jwtRevoke.watch({ jti: 'a', sub: 'b' }, () => {}), { code: 'FST_JWT_REVOKE_UNSUPPORTED_SETUP' })
  t.same(app.jwtRevoke.watchStatus(), { watched: 0, live: false, gaps: 0, rechecks: 0, pending: 0 })
})

t.test('Redis: every writer ends the stream, in both modes', async (t) => {
  const redis = await startRedisFor(t)
  let prefixes = 0
  for (const mode of ['lookup', 'mirror'] as const) {
    t.test(mode, async (t) => {
      const keyPrefix = `watch-${prefixes++}:`
      const options = { store: 'redis' as const, redis: redis.url, keyPrefix, mode }
      const a = await buildWatchApp(t, options)
      const lookup = await buildWatchApp(t, { ...options, mode: 'lookup' })
      const mirror = await buildWatchApp(t, { ...options, mode: 'mirror' })
      t.equal(a.app.jwtRevoke.watchStatus().live, false, 'nothing subscribed before the first watch')
      // Revoked before the subscription is confirmed: the first check, made once it is, catches it.
      const first = a.sign()
      const early = await openStream(a.base, first)
      await a.app.revoke(first)
      t.match(await early.ended, /^(token|recheck)$/, 'the first watch, revoked at once')
      await until(() => a.app.jwtRevoke.watchStatus().live, 5000, 'subscribed')
      const writers: Array<[string, (token: string) => Promise<unknown>]> = [
        ['this instance', async (token) => { await a.app.revoke(token) }],
        ['a lookup instance', async (token) => { await lookup.app.revoke(token) }],
        ['a mirror instance', async (token) => { await mirror.app.revoke(token) }],
        ['the ops CLI', async (token) => {
          const result = await cli(['revoke', token, '--redis-url', redis.url, '--key-prefix', keyPrefix])
          if (result.code !== 0) throw new Error(result.stderr)
        }]
      ]
      for (const [writer, revoke] of writers) {
        const token = a.sign()
        const bystander = await openStream(a.base, a.sign())
        const stream = await openStream(a.base, token)
        await checked(a)
        await revoke(token)
        t.equal(await stream.ended, 'token', `${writer}: revoke`)
        t.notOk(bystander.done, `${writer}: another token stays open`)
        bystander.abort()
      }
      // The same four writers of a cutoff: app.revokeSubject / app.revokeSession, or the CLI command of that name.
      const cutoffWriters = (method: 'revokeSubject' | 'revokeSession', command: string): Array<[string, (id: string) => Promise<unknown>]> => [
        ['this instance', async (id) => await a.app[method](id)],
        ['a lookup instance', async (id) => await lookup.app[method](id)],
        ['a mirror instance', async (id) => await mirror.app[method](id)],
        ['the ops CLI', async (id) => {
          const result = await cli([command, id, '--redis-url', redis.url, '--key-prefix', keyPrefix])
          if (result.code !== 0) throw new Error(result.stderr)
        }]
      ]
      const subjectWriters = cutoffWriters('revokeSubject', 'revoke-subject')
      for (const [writer, revokeSubject] of subjectWriters) {
        const sub = `user-${writer.replaceAll(' ', '-')}`
        const streams = await Promise.all([1, 2, 3].map(async () => await openStream(a.base, a.sign({ sub, iat: nowSeconds() - 5 }))))
        await checked(a)
        await revokeSubject(sub)
        t.same(await Promise.all(streams.map(async (stream) => await stream.ended)), ['subject', 'subject', 'subject'], `${writer}: revokeSubject`)
      }
      // A session cutoff (app.revokeSession, a back-channel logout, the CLI) ends the streams of that session only.
      const sessionWriters = cutoffWriters('revokeSession', 'revoke-session')
      for (const [writer, revokeSession] of sessionWriters) {
        const sid = `session-${writer.replaceAll(' ', '-')}`
        const iat = nowSeconds() - 5
        const own = await openStream(a.base, a.sign({ sid, iat }))
        const otherSession = await openStream(a.base, a.sign({ sid: `${sid}-2`, iat }))
        await checked(a)
        await revokeSession(sid)
        t.equal(await own.ended, 'session', `${writer}: revokeSession`)
        t.notOk(await settlesWithin(otherSession.ended, 100), `${writer}: another session of the same subject stays open`)
        otherSession.abort()
      }
      // The aborted stream's close reaches the server a moment later.
      await until(() => a.app.jwtRevoke.watchStatus().watched === 0, 5000, 'every watch forgotten')
      t.equal(a.app.jwtRevoke.watchStatus().live, true)
    })
  }
})
