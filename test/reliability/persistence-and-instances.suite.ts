import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { bearer, buildApp, type TestApp } from '../helpers/app.js'
import { listened, type RedisServer, startRedisFor } from '../helpers/redis-server.js'
import { inBatches, sleep } from '../helpers/reliability.js'

// Issue 4: what survives a Redis restart (with and without persistence), and instances that share one Redis.

async function appOn (t: Test, redis: RedisServer, mode: Mode = 'lookup'): Promise<TestApp> {
  const client = listened(new Redis(redis.url, { maxRetriesPerRequest: 1 }))
  const built = await buildApp({ store: 'redis', redis: client, storeTimeout: 1000, mode })
  t.teardown(async () => {
    await built.app.close()
    client.disconnect()
  })
  return built
}

type Mode = 'lookup' | 'mirror'

/** Kills redis-server with SIGKILL (no shutdown, no final fsync) and waits until the process is gone. */
async function crash (redis: RedisServer): Promise<void> {
  const admin = listened(new Redis(redis.url))
  const pid = Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1])
  admin.disconnect()
  process.kill(pid, 'SIGKILL')
  for (let i = 0; i < 500; i++) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await sleep(10)
  }
  throw new Error(`redis-server ${pid} survived SIGKILL`)
}

async function waitUntilAnswering (app: TestApp): Promise<number> {
  const probe = app.sign()
  let status = 0
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await app.app.inject({ url: '/me', headers: bearer(probe) })).statusCode
    if (status !== 200) await sleep(50)
  }
  return status
}

async function statusesOf (app: TestApp, tokens: string[]): Promise<number[]> {
  return await Promise.all(tokens.map(async (token) => (await app.app.inject({ url: '/me', headers: bearer(token) })).statusCode))
}

t.test('AOF (appendfsync always): revocations made before a crash (SIGKILL) and restart still hold', async (t) => {
  const redis = await startRedisFor(t, ['--appendonly', 'yes', '--appendfsync', 'always'])
  const app = await appOn(t, redis)
  const revoked = Array.from({ length: 50 }, () => app.sign())
  const kept = Array.from({ length: 10 }, () => app.sign())
  const bySubject = app.sign({ sub: 'everyone-out', iat: Math.floor(Date.now() / 1000) - 5 })
  await Promise.all(revoked.map((token) => app.app.revoke(token)))
  await app.app.revokeSubject('everyone-out')

  await crash(redis)
  await redis.start()
  t.equal(await waitUntilAnswering(app), 200, 'the same app instance reconnected by itself')
  t.same(new Set(await statusesOf(app, revoked)), new Set([401]), 'every revoked token is still refused')
  t.equal((await statusesOf(app, [bySubject]))[0], 401, 'the subject cutoff survived too')
  t.same(new Set(await statusesOf(app, kept)), new Set([200]), 'the others are still accepted')
  const client = listened(new Redis(redis.url))
  t.teardown(() => client.disconnect())
  const ttls = await Promise.all((await client.keys('jwt-revoke:*')).map((key) => client.ttl(key)))
  t.equal(ttls.length, 51)
  t.ok(ttls.every((ttl) => ttl > 0), 'each entry kept its expiry')
})

t.test('without persistence, a restarted Redis has forgotten every revocation (why the README asks for AOF)', async (t) => {
  const redis = await startRedisFor(t)
  const app = await appOn(t, redis)
  const revoked = app.sign()
  await app.app.revoke(revoked)
  t.equal((await statusesOf(app, [revoked]))[0], 401)
  await redis.stop()
  await redis.start()
  t.equal(await waitUntilAnswering(app), 200)
  t.equal((await statusesOf(app, [revoked]))[0], 200, 'the revoked token is accepted again: the deny-list was lost')
})

for (const mode of ['lookup', 'mirror'] as const) {
  // lookup mode: every instance asks Redis, so all refuse on their very next request. mirror mode: the revoking
  // instance refuses at once, the others as soon as the pub/sub message arrives (the README's propagation delay).
  const promise = mode === 'lookup' ? 'refused by all on their very next request' : 'refused by it at once and by all within 200 ms'
  t.test(`${mode} mode, three instances on one Redis: a token revoked through one is ${promise}`, async (t) => {
    const redis = await startRedisFor(t)
    const instances = [await appOn(t, redis, mode), await appOn(t, redis, mode), await appOn(t, redis, mode)]
    const [first] = instances
    const everywhere = async (token: string): Promise<number[]> =>
      await Promise.all(instances.map(async ({ app }) => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode))

    const rounds = await inBatches(150, 30, async (i) => {
      const token = first!.sign({ sub: `user-${i}` })
      const before = await everywhere(token)
      const through = instances[i % 3]!
      if (i % 5 === 0) {
        t.equal((await through.app.inject({ method: 'POST', url: '/logout', headers: bearer(token) })).statusCode, 204)
      } else if (i % 5 === 1) {
        await through.app.revokeSubject(`user-${i}`)
      } else {
        await through.app.revoke(token)
      }
      const after = await everywhere(token)
      // Then, a little later: how long the slowest instance took to hear of it, if it did not know at once.
      await sleep(200)
      return { before, after, later: await everywhere(token), through: i % 3 }
    })
    t.same(new Set(rounds.flatMap((round) => round.before)), new Set([200]), 'every instance accepted each token before')
    const next = mode === 'lookup' ? rounds.flatMap((round) => round.after) : rounds.map((round) => round.after[round.through])
    const accepted = next.filter((code) => code !== 401).length
    t.equal(accepted, 0, `150 tokens (revoke, revokeSubject, logout, through each instance): refused on the next request (${accepted} of ${next.length} were not)`)
    t.same(new Set(rounds.flatMap((round) => round.later)), new Set([401]), 'and by all three 200 ms later')
  })
}
