// What the session key costs a check: on a single Redis it joins the one MGET; on a Cluster it may live in another
// slot, so it is a GET sent beside the MGET. Sequential checks (one in flight: latency, not throughput) of a token
// without sid, with a sid whose key shares the subject's node, and with one on another node.
// Run: npx tsx bench/session-key-cost.ts
import { RedisStore } from '../lib/stores/redis.js'
import { sessionKey } from '../lib/keys.js'
import { startCluster } from '../test/helpers/redis-cluster.js'
import { startRedis } from '../test/helpers/redis-server.js'
import { Redis } from 'ioredis'

const CHECKS = 20_000
const iat = Math.floor(Date.now() / 1000)

/** The median of five rounds, in µs per check: this machine is shared, so one round alone says little. */
async function timed (store: RedisStore, claims: { jti: string, sub: string, sid?: string }): Promise<number> {
  const rounds: number[] = []
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < CHECKS / 5; i++) await store.isRevoked({ ...claims, iat })
    rounds.push(Number(process.hrtime.bigint() - start) / (CHECKS / 5) / 1000)
  }
  return rounds.sort((a, b) => a - b)[2] as number
}

const single = await startRedis()
const singleClient = new Redis(single.url)
const singleStore = new RedisStore({ client: singleClient })
console.log(`single Redis, no sid:        ${(await timed(singleStore, { jti: 'j', sub: 'user' })).toFixed(1)} µs per check`)
console.log(`single Redis, with sid:      ${(await timed(singleStore, { jti: 'j', sub: 'user', sid: 's' })).toFixed(1)} µs per check`)
singleClient.disconnect()
await single.stop()

const cluster = await startCluster()
const client = cluster.client()
const store = new RedisStore({ client })
const owner = await cluster.ownerOf(await cluster.keySlot('{user}'))
const sidOn = async (same: boolean): Promise<string> => {
  for (let i = 0; ; i++) if ((await cluster.ownerOf(await cluster.keySlot(sessionKey('jwt-revoke:', `s${i}`))) === owner) === same) return `s${i}`
}
console.log(`Cluster, no sid:             ${(await timed(store, { jti: 'j', sub: 'user' })).toFixed(1)} µs per check`)
console.log(`Cluster, sid on same node:   ${(await timed(store, { jti: 'j', sub: 'user', sid: await sidOn(true) })).toFixed(1)} µs per check`)
console.log(`Cluster, sid on other node:  ${(await timed(store, { jti: 'j', sub: 'user', sid: await sidOn(false) })).toFixed(1)} µs per check`)
await cluster.stop()
