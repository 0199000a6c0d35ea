import { Redis } from 'ioredis'
import t from 'tap'
import { cli, cliChild, unsignedToken } from './helpers/cli-run.js'
import { startRedisFor } from './helpers/redis-server.js'

// Issue 12: the ops CLI never hangs on a Redis that accepts the connection but does not answer. Every command it
// sends is short, so it gives up after 5 s without a reply, says so, and exits 1.

t.setTimeout(120_000)

/** 5 s of commandTimeout, plus the connect and a loaded machine; far below "hangs". */
const BOUND_MS = 15_000
const token = unsignedToken({ jti: 'silent-1', sub: 'ops', exp: Math.floor(Date.now() / 1000) + 600 })

// The tests mostly wait out the CLI's 5 s: they run side by side.
t.jobs = 2

t.test('a frozen Redis (SIGSTOP: the kernel accepts, nobody answers): exit 3 (could not ask) with a clear error, in-process and as a child', { buffered: true }, async (t) => {
  const redis = await startRedisFor(t)
  redis.pause()
  t.teardown(() => redis.resume())
  const started = Date.now()
  const { code, stdout, stderr } = await cli(['check', token, '--redis-url', redis.url])
  t.equal(code, 3, 'exit 3: could not ask (1 would mean revoked)')
  t.equal(stdout, '')
  t.match(stderr, /^failed: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: connected, but no answer within 5 s \(the connection is open but silent\)/)
  t.ok(Date.now() - started < BOUND_MS, `gave up after ${Date.now() - started} ms`)
  const child = await cliChild(['stats', '--json'], { REDIS_URL: redis.url })
  t.equal(child.code, 3, 'the process ends with exit 3')
  t.match(JSON.parse(child.stdout), { ok: false, exitCode: 3, error: /no answer within 5 s/ })
})

t.test('a connection that goes silent after the handshake (writes paused): exit 3 with a clear error', { buffered: true }, async (t) => {
  const redis = await startRedisFor(t)
  const admin = new Redis(redis.url)
  t.teardown(() => admin.disconnect())
  // CLIENT PAUSE WRITE: the handshake and reads are answered, the CLI's write never is while the pause lasts.
  await admin.call('CLIENT', 'PAUSE', 20_000, 'WRITE')
  t.teardown(() => admin.call('CLIENT', 'UNPAUSE'))
  const started = Date.now()
  // --force: the prefix holds no entry yet, which would stop the write before it is sent.
  const { code, stderr } = await cli(['revoke', token, '--redis-url', redis.url, '--force'])
  t.equal(code, 3)
  t.match(stderr, /^failed: connected, but no answer within 5 s \(the connection is open but silent\)/)
  t.ok(Date.now() - started < BOUND_MS, `gave up after ${Date.now() - started} ms`)
})
