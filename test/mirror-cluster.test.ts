import t from 'tap'
import { bearer, buildApp, type TestApp } from './helpers/app.js'
import { startClusterFor } from './helpers/redis-cluster.js'

const cluster = await startClusterFor(t)

async function mirrorApp (): Promise<TestApp> {
  const built = await buildApp({ store: 'redis', redis: cluster.client(), mode: 'mirror', storeTimeout: 500 })
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
