import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { freePort, startRedisFor, type RedisServer } from './redis-server.js'
import { waitUntil } from './redis-replication.js'

/** A primary, one replica and three sentinels (quorum 2), each a real redis-server on a free loopback port. */
export interface SentinelSetup {
  readonly name: string
  readonly primary: RedisServer
  readonly replica: RedisServer
  readonly sentinelPorts: readonly number[]
  /** A new ioredis client that finds the primary through the sentinels (disconnected by teardown). */
  client (options?: RedisOptions): Redis
  /** The port the sentinels currently name as the primary. */
  primaryPort (): Promise<number>
}

interface Teardown { teardown (fn: () => unknown): void }

/** How long the sentinels wait before they call a silent primary down: short, for the tests. */
export const DOWN_AFTER_MS = 1000

async function startSentinel (t: Teardown, name: string, primaryPort: number): Promise<number> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'jwt-revoke-sentinel-'))
  // Sentinel rewrites its configuration file, so each one gets its own, in its own directory.
  const config = join(dir, 'sentinel.conf')
  writeFileSync(config, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
    `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${name} 10000`
  ].join('\n') + '\n')
  const child: ChildProcess = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' })
  t.teardown(async () => {
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  await waitUntil(`sentinel on ${port}`, async () => {
    try {
      if (probe.status !== 'ready') await probe.connect()
      return (await probe.call('SENTINEL', 'MASTER', name)) !== null
    } catch {
      probe.disconnect()
      return false
    }
  })
  probe.disconnect()
  return port
}

/** Starts the primary, its replica (synced) and three sentinels watching them; stopped by PID in teardown. */
export async function startSentinelFor (t: Teardown): Promise<SentinelSetup> {
  const name = 'jwt-revoke-primary'
  const primary = await startRedisFor(t, ['--repl-diskless-sync-delay', '0'])
  const replica = await startRedisFor(t, ['--replicaof', '127.0.0.1', String(primary.port)])
  const admin = new Redis(replica.port, '127.0.0.1')
  await waitUntil('the replica to sync', async () => (await admin.info('replication')).includes('master_link_status:up'))
  admin.disconnect()
  const sentinelPorts = await Promise.all([0, 1, 2].map(() => startSentinel(t, name, primary.port)))
  const sentinels = sentinelPorts.map((port) => ({ host: '127.0.0.1', port }))
  // Every sentinel must know the replica and the other sentinels before a failover can be agreed on.
  const asker = new Redis(sentinelPorts[0] as number, '127.0.0.1')
  t.teardown(() => asker.disconnect())
  await waitUntil('the sentinels to find the replica and each other', async () => {
    const [replicas, peers] = await Promise.all([
      asker.call('SENTINEL', 'REPLICAS', name) as Promise<unknown[]>,
      asker.call('SENTINEL', 'SENTINELS', name) as Promise<unknown[]>
    ])
    return replicas.length === 1 && peers.length === 2
  })
  return {
    name,
    primary,
    replica,
    sentinelPorts,
    client (options = {}) {
      const client = new Redis({ sentinels, name, ...options })
      client.on('error', () => {})
      t.teardown(() => client.disconnect())
      return client
    },
    async primaryPort () {
      const [, port] = await asker.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as [string, string]
      return Number(port)
    }
  }
}
