import fastifyJwt from '@fastify/jwt'
import fastifyRedis from '@fastify/redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import t from 'tap'
import jwtRevoke, { RedisStore } from '../index.js'
import { cutoffKey, encodeId, jtiKey } from '../lib/keys.js'
import { bearer, buildApp, collectLogs, SECRET } from './helpers/app.js'
import { listened, startRedisFor } from './helpers/redis-server.js'

const server = await startRedisFor(t)
const client = listened(new Redis(server.url))
t.teardown(() => client.quit())

t.test('keys: plain ids stay readable, any other id is hashed, and both keys of a token share one hash tag', async (t) => {
  t.equal(jtiKey('p:', 'abc-123', 'user@example.com'), 'p:{user@example.com}:jti:abc-123')
  t.equal(cutoffKey('p:', 'user-1'), 'p:{user-1}:cutoff')
  t.equal(jtiKey('p:', 'abc', undefined), 'p:{abc}:jti')
  for (const hostile of ['a:b', 'a*', '{x}', 'with space', 'line\nbreak', 'nul\u0000', 'ünïcode', 'x'.repeat(129), '~fake']) {
    const encoded = encodeId(hostile)
    t.match(encoded, /^~[A-Za-z0-9_-]{43}$/, `${JSON.stringify(hostile.slice(0, 10))} is hashed`)
  }
  t.not(encodeId('a:b'), encodeId('a*b'))
})

t.test('the Redis store directly: sub-less tokens, cutoffs without jti, nothing to look up', async (t) => {
  const store = new RedisStore({ client, keyPrefix: 'direct:' })
  await store.revoke({ jti: 'lonely' }, 60)
  t.equal(await store.isRevoked({ jti: 'lonely' }), true)
  t.equal(await store.isRevoked({ jti: 'other' }), false)
  t.equal(await client.exists('direct:{lonely}:jti'), 1)
  await store.revokeSubject('who', 100, 60)
  t.equal(await store.isRevoked({ sub: 'who', iat: 100 }), true)
  t.equal(await store.isRevoked({ sub: 'who', iat: 101 }), false)
  t.equal(await store.isRevoked({ sub: 'who' }), true, 'no iat cannot prove it came after the cutoff')
  t.equal(await store.isRevoked({ sub: 'nobody' }), false)
  t.equal(await store.isRevoked({}), false)
  await store.revokeSubject('who', 50, 60)
  t.equal(await client.get('direct:{who}:cutoff'), '100', 'an older cutoff never replaces a later one')
  await store.close()
  t.equal(await client.ping(), 'PONG', 'close() leaves a borrowed client open')
  const defaults = new RedisStore({ client })
  await defaults.revoke({ jti: 'default-prefix' }, 60)
  t.equal(await client.exists('jwt-revoke:{default-prefix}:jti'), 1, 'the default prefix is jwt-revoke:')
})

t.test('with @fastify/redis registered the Redis store is the default, through app.redis', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyRedis, { url: server.url })
  await app.register(jwtRevoke, { keyPrefix: 'app:', requireJti: false })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user)
  t.teardown(() => app.close())
  t.type(app.jwtRevoke.store, RedisStore)
  const token = app.jwt.sign({ sub: 'via-app-redis', jti: 'j1' }, { expiresIn: 60 })
  await app.revoke(token)
  t.equal(await client.exists('app:{via-app-redis}:jti:j1'), 1)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)

  const anonymous = app.jwt.sign({ role: 'guest' }, { expiresIn: 60 })
  t.equal((await app.inject({ url: '/me', headers: bearer(anonymous) })).statusCode, 200, 'requireJti: false accepts a token with neither jti nor sub')
  t.equal(await app.isRevoked(anonymous), false)
  const subjectOnly = app.jwt.sign({ sub: 'no-jti' }, { expiresIn: 60 })
  await app.revokeSubject('no-jti')
  t.equal((await app.inject({ url: '/me', headers: bearer(subjectOnly) })).statusCode, 401, 'a token without jti still obeys its subject cutoff')
})

t.test('a Redis that may evict revocations is warned about at register', async (t) => {
  const evicting = await startRedisFor(t, ['--maxmemory-policy', 'allkeys-lru'])
  for (const [url, expected] of [[evicting.url, 1], [server.url, 0]] as const) {
    const logs = collectLogs('warn')
    const { app } = await buildApp({ redis: url }, {}, { logger: logs.logger })
    await app.close()
    const warnings = logs.lines.filter((line) => String(line.msg).includes("maxmemory-policy is not 'noeviction'"))
    t.equal(warnings.length, expected, `${url}: ${expected} warning(s)`)
    if (expected === 1) t.equal(warnings[0]?.maxmemoryPolicy, 'allkeys-lru')
  }
  const renamed = await startRedisFor(t, ['--rename-command', 'CONFIG', ''])
  const logs = collectLogs('warn')
  const { app } = await buildApp({ redis: renamed.url }, {}, { logger: logs.logger })
  await app.close()
  t.same(logs.lines, [], 'a Redis without CONFIG is not asked, and nothing is logged')
})
