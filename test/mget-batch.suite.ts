import { Redis } from 'ioredis'
import t from 'tap'
import { MAX_KEYS_PER_MGET, MgetBatch } from '../lib/stores/mget-batch.js'
import { bearer, buildApp } from './helpers/app.js'
import { listened, startRedisFor } from './helpers/redis-server.js'

const server = await startRedisFor(t)
const admin = listened(new Redis(server.url))
t.teardown(() => admin.quit())

async function mgetCalls (client: Redis): Promise<number> {
  const match = /^cmdstat_mget:calls=(\d+)/m.exec(await client.info('commandstats'))
  return Number(match?.[1] ?? 0)
}

function pipelined (url: string): Redis {
  const client = listened(new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 1 }))
  t.teardown(() => client.status === 'end' ? undefined : client.quit())
  return client
}

t.test('the lookups of one turn go out as one MGET, each gets its own keys back in order', async (t) => {
  const client = pipelined(server.url)
  await client.mset('b:1', 'one', 'b:3', 'three')
  const batch = new MgetBatch(client)
  await admin.config('RESETSTAT')
  const answers = await Promise.all([batch.get(['b:1']), batch.get(['b:2', 'b:3']), batch.get(['b:3', 'b:1'])])
  t.same(answers, [['one'], [null, 'three'], ['three', 'one']])
  t.equal(await mgetCalls(admin), 1)
})

t.test('lookups made while a batch is in flight wait for it, then go out together', async (t) => {
  const client = pipelined(server.url)
  const batch = new MgetBatch(client)
  await admin.config('RESETSTAT')
  const first = batch.get(['w:1'])
  // The first MGET has been written (its flush ran in the check phase); these two queue behind it.
  await new Promise((resolve) => setImmediate(resolve))
  const later = [batch.get(['w:2']), batch.get(['w:3'])]
  t.same(await Promise.all([first, ...later]), [[null], [null], [null]])
  t.equal(await mgetCalls(admin), 2, 'one MGET for the first, one for the two that waited')
})

t.test('a failed MGET fails every lookup it carried, and the next batch is unaffected', async (t) => {
  const noMget = await startRedisFor(t, ['--rename-command', 'MGET', 'MGET_RENAMED'])
  const batch = new MgetBatch(pipelined(noMget.url))
  const failed = await Promise.allSettled([batch.get(['f:1']), batch.get(['f:2', 'f:3'])])
  t.same(failed.map((result) => result.status), ['rejected', 'rejected'])
  t.match(failed[0], { reason: { message: /unknown command/ } })
  const again = await Promise.allSettled([batch.get(['f:4'])])
  t.equal(again[0]?.status, 'rejected', 'a later batch is sent, and fails on its own')

  const { app, sign } = await buildApp({ store: 'redis', redis: pipelined(noMget.url), storeTimeout: 1000 })
  t.teardown(() => app.close())
  const response = await app.inject({ url: '/me', headers: bearer(sign()) })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'FST_JWT_REVOKE_STORE_UNAVAILABLE')
})

t.test('through the plugin: concurrent checks share MGETs and each gets its own answer', async (t) => {
  const { app, sign } = await buildApp({ store: 'redis', redis: pipelined(server.url) })
  t.teardown(() => app.close())
  const tokens = Array.from({ length: 60 }, (_, i) => sign({ sub: `batched-${i % 6}` }))
  const revoked = new Set(tokens.filter((_, i) => i % 3 === 0))
  for (const token of revoked) await app.revoke(token)
  await app.revokeSubject('batched-5')
  await admin.config('RESETSTAT')
  const statuses = await Promise.all(tokens.map(async (token) => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode))
  const expected = tokens.map((token, i) => revoked.has(token) || i % 6 === 5 ? 401 : 200)
  t.same(statuses, expected, 'revoked tokens and the cut-off subject are refused, the rest pass')
  const calls = await mgetCalls(admin)
  t.ok(calls >= 1 && calls < tokens.length / 2, `${calls} MGETs for ${tokens.length} checks`)
})

t.test('every single-Redis client batches: a URL the plugin connects, a plain borrowed client, a pipelined one', async (t) => {
  const plain = listened(new Redis(server.url))
  t.teardown(() => plain.quit())
  for (const [label, redis] of [['URL', server.url], ['plain client', plain], ['auto-pipelining client', pipelined(server.url)]] as const) {
    const { app, sign } = await buildApp({ store: 'redis', redis })
    const tokens = Array.from({ length: 20 }, () => sign())
    await admin.config('RESETSTAT')
    const statuses = await Promise.all(tokens.map(async (token) => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode))
    t.ok(statuses.every((status) => status === 200), `${label}: every check passed`)
    const calls = await mgetCalls(admin)
    t.ok(calls >= 1 && calls < tokens.length, `${label}: ${calls} MGETs for ${tokens.length} checks`)
    await app.close()
  }
})

t.test(`a turn with more than ${MAX_KEYS_PER_MGET} keys is split into MGETs of at most that many, sent together`, async (t) => {
  const client = pipelined(server.url)
  const batch = new MgetBatch(client)
  await client.set('split:7', 'seven')
  await admin.config('RESETSTAT')
  const lookups = Array.from({ length: MAX_KEYS_PER_MGET + 10 }, (_, i) => batch.get([`split:${i}`, `split:${i + 1}`]))
  const answers = await Promise.all(lookups)
  t.same(answers[6], [null, 'seven'])
  t.same(answers[7], ['seven', null])
  t.equal(answers.flat().filter((value) => value === 'seven').length, 2, 'every other answer is empty')
  t.equal(await mgetCalls(admin), Math.ceil(2 * lookups.length / MAX_KEYS_PER_MGET))
})

t.test("a client with ioredis's own keyPrefix: the batch reads the prefixed keys the writes made", async (t) => {
  const prefixed = listened(new Redis(server.url, { keyPrefix: 'tenant-a:' }))
  t.teardown(() => prefixed.quit())
  const { app, sign } = await buildApp({ store: 'redis', redis: prefixed, keyPrefix: 'kp:' })
  t.teardown(() => app.close())
  const revoked = sign({ sub: 'prefixed', jti: 'j-1' })
  const kept = sign({ sub: 'prefixed', jti: 'j-2' })
  await app.revoke(revoked)
  t.equal(await admin.exists('tenant-a:kp:{prefixed}:jti:j-1'), 1, 'written under both prefixes')
  const statuses = await Promise.all([revoked, kept].map(async (token) => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode))
  t.same(statuses, [401, 200])
})

t.test('while Redis does not answer, lookups beyond maxWaiting are refused at once; all resume when it answers', async (t) => {
  const frozen = await startRedisFor(t)
  const client = listened(new Redis(frozen.url))
  t.teardown(() => client.quit())
  await client.ping()
  const batch = new MgetBatch(client, { maxWaiting: 3 })
  frozen.pause()
  t.teardown(() => { frozen.resume() })
  const inFlight = batch.get(['frozen:0'])
  await new Promise((resolve) => setImmediate(resolve))
  const waiting = [1, 2, 3].map((i) => batch.get([`frozen:${i}`]))
  await t.rejects(batch.get(['frozen:4']), { code: 'FST_JWT_REVOKE_STORE_UNAVAILABLE', message: /3 checks are already waiting/ })
  frozen.resume()
  t.same(await Promise.all([inFlight, ...waiting]), [[null], [null], [null], [null]], 'the queued lookups are answered')
  t.same(await batch.get(['frozen:5']), [null], 'and new ones are accepted again')
})
