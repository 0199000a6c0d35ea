import { randomUUID } from 'node:crypto'
import t from 'tap'
import { cutoffKey, encodeId, jtiKey } from '../../lib/keys.js'
import { bearer, buildApp } from '../helpers/app.js'
import { startClusterFor, type ClusterNode, type RedisCluster } from '../helpers/redis-cluster.js'
import { keyCount } from '../helpers/reliability.js'

// Issue 4: the plugin on a real 3-primary Redis Cluster, including after a slot moves (MOVED) and while it moves (ASK).

// Generous for a busy 2-core machine (a cluster to start and slots to move); tap's default is 30 s per file.
t.setTimeout(120_000)

const PREFIX = 'jwt-revoke:'
const cluster = await startClusterFor(t)

/** Calls per command and error replies per kind, summed over the primaries since the last reset. */
async function commandStats (nodes: readonly ClusterNode[]): Promise<Map<string, number>> {
  const stats = new Map<string, number>()
  for (const node of nodes) {
    const info = await node.admin.info('commandstats') + await node.admin.info('errorstats')
    for (const [, name, count] of info.matchAll(/^(?:cmdstat|errorstat)_([^:]+):(?:calls|count)=(\d+)/gm)) {
      stats.set(name!, (stats.get(name!) ?? 0) + Number(count))
    }
  }
  return stats
}

async function resetStats (nodes: readonly ClusterNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.admin.call('CONFIG', 'RESETSTAT')))
}

/** A subject whose keys live on `node`, found by trying names. */
async function subjectOn (cluster: RedisCluster, node: ClusterNode, stem: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const sub = `${stem}-${i}`
    if (await cluster.ownerOf(await cluster.keySlot(cutoffKey(PREFIX, sub))) === node) return sub
  }
  throw new Error(`no subject on node ${node.id}`)
}

async function someOtherNode (cluster: RedisCluster, key: string): Promise<ClusterNode> {
  const owner = await cluster.ownerOf(await cluster.keySlot(key))
  return cluster.nodes.find((node) => node !== owner)!
}

const { app, sign } = await buildApp({ store: 'redis', redis: cluster.client(), storeTimeout: 1000 })
t.teardown(() => app.close())

const status = async (token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode

t.test('revoke and revokeSubject work with subjects on each of the three primaries', async (t) => {
  for (const node of cluster.nodes) {
    const sub = await subjectOn(cluster, node, 'spread')
    const revoked = sign({ sub })
    const kept = sign({ sub })
    t.equal(await status(revoked), 200)
    await app.revoke(revoked)
    t.equal(await status(revoked), 401, `revoked token of ${sub} refused`)
    t.equal(await status(kept), 200, `other token of ${sub} still accepted`)
    t.equal(await app.isRevoked(revoked), true)

    await app.revokeSubject(sub)
    t.equal(await status(kept), 401, `revokeSubject(${sub}) refuses its older tokens`)
    const later = sign({ sub, iat: Math.floor(Date.now() / 1000) + 1 })
    t.equal(await status(later), 200, `a token of ${sub} issued after the cutoff is accepted`)
  }
  const withoutSub = sign({ sub: undefined })
  t.equal(await status(withoutSub), 200)
  await app.revoke(withoutSub)
  t.equal(await status(withoutSub), 401, 'a token without sub is revoked too')
})

t.test('the keys of one token share one slot: the subject\'s hash tag', async (t) => {
  for (const sub of ['plain-sub', 'with:colon', 'with{brace}', '}{', 'a*b', 'sp ace', 'new\nline', 'nul\0', 'ünï©ødé 🔑']) {
    const jti = randomUUID() + ':{x}'
    await app.revoke(sign({ sub, jti }))
    await app.revokeSubject(sub, { before: 1 + Math.floor(Date.now() / 1000) - 3600 })
    const keys = [jtiKey(PREFIX, jti, sub), cutoffKey(PREFIX, sub)]
    t.equal(await app.jwtRevoke.store.isRevoked({ jti, sub }), true)
    const slots = await Promise.all(keys.map((key) => cluster.keySlot(key)))
    t.equal(slots[0], slots[1], `${JSON.stringify(sub)}: jti key and cutoff key in one slot`)
    t.equal(slots[0], await cluster.keySlot(`{${encodeId(sub)}}`), `${JSON.stringify(sub)}: the slot is the encoded subject's`)
    const owner = await cluster.ownerOf(slots[0]!)
    t.same(await Promise.all(keys.map((key) => owner.admin.exists(key))), [1, 1], 'both keys are stored on that slot\'s node')
  }
})

t.test('a check is one round trip: one MGET per token, with or without sub, no redirection', async (t) => {
  const withSub = Array.from({ length: 30 }, (_, i) => sign({ sub: `round-trip-${i}` }))
  const withoutSub = Array.from({ length: 10 }, () => sign({ sub: undefined }))
  // Warm up: the client learns the slot map before we count.
  await Promise.all([...withSub, ...withoutSub].map(status))
  await resetStats(cluster.nodes)
  const statuses = await Promise.all([...withSub, ...withoutSub].map(status))
  t.ok(statuses.every((code) => code === 200))
  const stats = await commandStats(cluster.nodes)
  t.equal(stats.get('mget') ?? 0, withSub.length + withoutSub.length, 'one MGET per token: a Cluster never batches checks')
  for (const other of ['exists', 'get', 'set', 'eval', 'evalsha', 'MOVED', 'ASK', 'TRYAGAIN']) t.equal(stats.get(other) ?? 0, 0, `no ${other}`)
})

t.test('after the slot of a revoked key moves to another node (MOVED), the token is still refused', async (t) => {
  const sub = `moving-${randomUUID()}`
  const revoked = sign({ sub })
  const subjectRevoked = sign({ sub: `${sub}-b`, iat: Math.floor(Date.now() / 1000) - 10 })
  const kept = sign({ sub })
  await app.revoke(revoked)
  await app.revokeSubject(`${sub}-b`)
  t.equal(await status(kept), 200)

  const keysBefore = await keyCount(cluster.client())
  for (const key of [cutoffKey(PREFIX, sub), cutoffKey(PREFIX, `${sub}-b`)]) {
    const to = await someOtherNode(cluster, key)
    await cluster.migrateSlot(await cluster.keySlot(key), to)
    t.equal(await cluster.ownerOf(await cluster.keySlot(key)), to, 'the slot has moved')
  }
  t.equal(await keyCount(cluster.client()), keysBefore, 'no key was lost in the move')

  await resetStats(cluster.nodes)
  t.equal(await status(revoked), 401, 'revoked token refused after the move')
  t.equal(await status(subjectRevoked), 401, 'subject cutoff still applies after the move')
  t.equal(await status(kept), 200, 'the other token of the subject still works')
  t.ok((await commandStats(cluster.nodes)).get('MOVED')! >= 1, 'the client really was redirected with MOVED')

  const fresh = await buildApp({ store: 'redis', redis: cluster.client() })
  t.teardown(() => fresh.app.close())
  t.equal((await fresh.app.inject({ url: '/me', headers: bearer(revoked) })).statusCode, 401, 'a new instance agrees')

  const afterMove = sign({ sub })
  await app.revoke(afterMove)
  t.equal(await status(afterMove), 401, 'revoke keeps working in the moved slot')
})

t.test('while a slot migrates (ASK, TRYAGAIN), its tokens are refused or get 503, never accepted when revoked', async (t) => {
  const sub = `migrating-${randomUUID()}`
  const revoked = sign({ sub })
  const kept = sign({ sub })
  await app.revoke(revoked)
  const key = cutoffKey(PREFIX, sub)
  const midway: Array<{ token: 'revoked' | 'kept', status: number, code: unknown }> = []
  await cluster.migrateSlot(await cluster.keySlot(key), await someOtherNode(cluster, key), async () => {
    for (const [name, token] of [['revoked', revoked], ['kept', kept]] as const) {
      const response = await app.inject({ url: '/me', headers: bearer(token) })
      midway.push({ token: name, status: response.statusCode, code: response.json().code })
    }
  })
  t.comment(`midway: ${JSON.stringify(midway)}`)
  for (const answer of midway) {
    if (answer.token === 'revoked') t.not(answer.status, 200, 'a revoked token is never accepted mid-migration')
    t.ok([200, 401, 503].includes(answer.status), `${answer.token}: ${answer.status} ${String(answer.code)}`)
    if (answer.status === 503) t.equal(answer.code, 'FST_JWT_REVOKE_STORE_UNAVAILABLE')
  }
  t.equal(await status(revoked), 401, 'once migrated: refused')
  t.equal(await status(kept), 200, 'once migrated: accepted')
})
