import { Redis } from 'ioredis'
import { startRedisFor, type RedisServer } from './redis-server.js'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js'

/** A primary and one replica, each a real redis-server; the replica replicates through `link`, a TCP proxy. */
export interface Replicated {
  primary: RedisServer
  replica: RedisServer
  /** The replication link: cut or blackhole it to partition the replica from its primary. */
  link: TcpProxy
  /** Admin connection to the replica (closed by teardown). */
  replicaAdmin: Redis
}

interface Teardown { teardown (fn: () => unknown): void }

export async function waitUntil (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Starts both, links them, and resolves once the replica has synced (master_link_status:up). */
export async function startReplicatedFor (t: Teardown, args: string[] = []): Promise<Replicated> {
  // No 5 s wait for other replicas before a full sync: there is only one.
  const primary = await startRedisFor(t, ['--repl-diskless-sync-delay', '0', ...args])
  const link = await startTcpProxy(primary.port)
  t.teardown(() => link.close())
  const replica = await startRedisFor(t, [...args, '--replicaof', '127.0.0.1', String(link.port)])
  const replicaAdmin = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: 1 })
  t.teardown(() => replicaAdmin.disconnect())
  await waitUntil('the replica to sync', async () => (await replicaAdmin.info('replication')).includes('master_link_status:up'))
  return { primary, replica, link, replicaAdmin }
}
