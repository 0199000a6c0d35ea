import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { promisify } from 'node:util'
import { Cluster, Redis, type ClusterOptions as ClientOptions } from 'ioredis'
import { listened, type RedisServer, startRedis } from './redis-server.js'

const run = promisify(execFile)

/** One primary of a local Redis Cluster: its server process and an admin connection that never follows redirects. */
export interface ClusterNode {
  readonly server: RedisServer
  readonly admin: Redis
  readonly id: string
}

/** A real Redis Cluster of three primaries (and, when asked for, replicas) on free loopback ports. */
export interface RedisCluster {
  /** Every node, primaries and replicas. */
  readonly nodes: readonly ClusterNode[]
  /** The three nodes that were created as primaries. */
  readonly primaries: readonly ClusterNode[]
  /** The node that replicates `primary` (with replicasPerPrimary 1). */
  replicaOf (primary: ClusterNode): Promise<ClusterNode>
  /** A new ioredis Cluster client, with these options on top of the defaults (closed by teardown). */
  client (options?: ClientOptions): Cluster
  /** The slot Redis computes for a key (CLUSTER KEYSLOT, asked of a real node). */
  keySlot (key: string): Promise<number>
  /** The primary that currently serves a slot. */
  ownerOf (slot: number): Promise<ClusterNode>
  /**
   * Moves one slot, with its keys, to another primary, the way redis-cli --cluster reshard does. `midway` runs once
   * the keys have moved but before the slot is handed over (source MIGRATING, target IMPORTING: ASK redirections).
   */
  migrateSlot (slot: number, to: ClusterNode, midway?: () => Promise<void>): Promise<void>
  /** Stops every server and removes their directories. */
  stop (): Promise<void>
}

async function waitFor (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`Redis Cluster: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function clusterIsOk (node: ClusterNode): Promise<boolean> {
  const info = String(await node.admin.call('CLUSTER', 'INFO'))
  return info.includes('cluster_state:ok')
}

/** Slot ranges per node id, from CLUSTER SLOTS: [[start, end, [host, port, id]], ...]. */
type SlotsReply = Array<[number, number, [string, number, string], ...unknown[]]>

export interface ClusterOptions {
  /** Replicas per primary; default 0. */
  replicasPerPrimary?: number
  /** cluster-node-timeout: how long a node may be silent before it is failed over; default 5000 ms. */
  nodeTimeoutMs?: number
}

/** Starts cluster-enabled redis-servers and joins them with `redis-cli --cluster create`. */
export async function startCluster ({ replicasPerPrimary = 0, nodeTimeoutMs = 5000 }: ClusterOptions = {}): Promise<RedisCluster> {
  const servers: RedisServer[] = []
  const clients: Cluster[] = []
  const admins: Redis[] = []

  async function stop (): Promise<void> {
    await Promise.all(clients.map(async (c) => { await c.quit().catch(() => c.disconnect()) }))
    await Promise.all(admins.map(async (c) => { await c.quit().catch(() => c.disconnect()) }))
    await Promise.all(servers.map(async (s) => {
      await s.stop()
      rmSync(s.dir, { recursive: true, force: true })
    }))
  }

  try {
    for (let i = 0; i < 3 * (1 + replicasPerPrimary); i++) {
      servers.push(await startRedis([
        '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
        '--repl-diskless-sync-delay', '0'
      ]))
    }
    await run('redis-cli', [
      '--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', String(replicasPerPrimary), '--cluster-yes'
    ], { timeout: 30_000 })
    const nodes: ClusterNode[] = []
    for (const server of servers) {
      const admin = listened(new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1 }))
      admins.push(admin)
      nodes.push({ server, admin, id: String(await admin.call('CLUSTER', 'MYID')) })
    }
    await waitFor('cluster_state:ok on every node', async () => (await Promise.all(nodes.map(clusterIsOk))).every(Boolean))
    const roles = await Promise.all(nodes.map(async (node) => (await node.admin.call('ROLE') as [string])[0]))
    const primaries = nodes.filter((_, i) => roles[i] === 'master')
    const replicas = nodes.filter((_, i) => roles[i] !== 'master')
    await waitFor('every replica to sync', async () => (await Promise.all(replicas.map(async (node) =>
      (await node.admin.info('replication')).includes('master_link_status:up')))).every(Boolean))

    // Right after the create, a replica is in sync before its primary has heard of it by gossip (CLUSTER REPLICAS
    // answers an empty list for a moment): wait for it rather than fail.
    async function replicaOf (primary: ClusterNode): Promise<ClusterNode> {
      let replica: ClusterNode | undefined
      await waitFor(`a replica of ${primary.id}`, async () => {
        const lines = await primary.admin.call('CLUSTER', 'REPLICAS', primary.id) as string[]
        replica = nodes.find((node) => lines.some((line) => line.startsWith(node.id)))
        return replica !== undefined
      })
      return replica!
    }

    async function ownerOf (slot: number): Promise<ClusterNode> {
      const ranges = await nodes[0]!.admin.call('CLUSTER', 'SLOTS') as SlotsReply
      const range = ranges.find(([start, end]) => start <= slot && slot <= end)
      const owner = nodes.find((node) => node.id === range?.[2][2])
      if (owner === undefined) throw new Error(`Redis Cluster: no node serves slot ${slot}`)
      return owner
    }

    async function migrateSlot (slot: number, to: ClusterNode, midway?: () => Promise<void>): Promise<void> {
      const from = await ownerOf(slot)
      if (from === to) throw new Error(`Redis Cluster: slot ${slot} is already on ${to.id}`)
      await to.admin.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id)
      await from.admin.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id)
      for (;;) {
        const keys = await from.admin.call('CLUSTER', 'GETKEYSINSLOT', slot, 100) as string[]
        if (keys.length === 0) break
        await from.admin.call('MIGRATE', '127.0.0.1', to.server.port, '', 0, 5000, 'KEYS', ...keys)
      }
      await midway?.()
      // The new owner first, then the old one, then everybody else (as redis-cli does).
      for (const node of [to, from, ...nodes.filter((n) => n !== to && n !== from)]) {
        await node.admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
      }
      await waitFor(`every node to agree that ${to.id} serves slot ${slot}`, async () => {
        const owners = await Promise.all(nodes.map(async (node) => {
          const ranges = await node.admin.call('CLUSTER', 'SLOTS') as SlotsReply
          return ranges.find(([start, end]) => start <= slot && slot <= end)?.[2][2]
        }))
        return owners.every((id) => id === to.id)
      })
    }

    return {
      nodes,
      primaries,
      replicaOf,
      client (options = {}) {
        const client = listened(new Cluster([{ host: '127.0.0.1', port: servers[0]!.port }], {
          redisOptions: { maxRetriesPerRequest: 1 },
          ...options
        }))
        clients.push(client)
        return client
      },
      keySlot: async (key) => Number(await nodes[0]!.admin.call('CLUSTER', 'KEYSLOT', key)),
      ownerOf,
      migrateSlot,
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}

interface Teardown { teardown (fn: () => unknown): void }

/** startCluster, stopped when the test ends. */
export async function startClusterFor (t: Teardown, options: ClusterOptions = {}): Promise<RedisCluster> {
  const cluster = await startCluster(options)
  t.teardown(() => cluster.stop())
  return cluster
}
