import type { Cluster, Redis } from 'ioredis'
import { StoreUnavailableError } from '../errors.js'
import type { Durability } from '../options.js'

/** A Redis write as a command name and its arguments (SET or the EVAL of a write script). */
export type WriteCommand = [name: string, ...args: Array<string | number>]

/**
 * Runs a write, then WAIT for `replicas` replicas to hold it, and rejects with FST_JWT_REVOKE_STORE_UNAVAILABLE when
 * fewer confirm within `timeout` ms. Replication is asynchronous: a write only the primary holds is lost when a replica
 * that never got it is promoted, and the revoked token works again. WAIT counts the replicas that acknowledged every
 * earlier write of its connection, so both go in one pipeline, on one connection; on a Cluster the pipeline goes to the
 * primary that owns the key (WAIT has no key of its own), which is the one that took the write.
 *
 * What WAIT does not promise: the replicas hold the write in memory, not necessarily on disk, and a failover may still
 * pick a replica that had not confirmed (Sentinel and Cluster promote the most up-to-date one they can reach). A write
 * that was refused here was nonetheless made on the primary: it is not undone, only not known to be durable.
 */
export async function writeDurably (client: Redis | Cluster, command: WriteCommand, { replicas, timeout }: Durability): Promise<void> {
  type Reply = [error: Error | null, value: unknown]
  const results = await client.pipeline().call(...command).call('WAIT', replicas, timeout).exec() as [write: Reply, wait: Reply]
  for (const [error] of results) if (error !== null) throw error
  const confirmed = Number(results[1][1])
  if (confirmed >= replicas) return
  throw new StoreUnavailableError(`${confirmed} of ${replicas} replica(s) confirmed the write within ${timeout} ms (durability)`)
}
