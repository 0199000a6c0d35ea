import { Redis, type Cluster } from 'ioredis'

/**
 * How long a connection that has commands waiting may receive nothing before it is dropped and replaced: a few
 * storeTimeouts, and at least a second, so a Redis that is merely busy is not mistaken for a dead one.
 */
export function silenceLimit (storeTimeout: number): number {
  return Math.max(1000, 3 * storeTimeout)
}

/**
 * The connection the plugin checks and writes on, always its own, with ioredis's `socketTimeout` set to `silenceMs`.
 *
 * A connection can go silent for good without ever closing (the host vanished without a reset, a failover moved the
 * address, a NAT or load balancer forgot the flow): the kernel keeps it open for a quarter of an hour, ioredis keeps
 * queueing on it, and every check fails for as long. socketTimeout destroys a socket that leaves commands unanswered
 * for `silenceMs`; ioredis then reconnects (and asks Sentinel or the Cluster where to go), and the commands it had
 * written are sent again on the new connection.
 *
 * A borrowed client is duplicated rather than used: resetting a connection is only safe on one that carries nothing
 * but the plugin's short commands. The app's own connection may rightly stay quiet longer (BLPOP, a subscriber, a big
 * reply), and its commands ahead of a check would delay the check. The cost is one more connection per instance (per
 * node on a Cluster).
 */
export function ownConnection (redis: string | Redis | Cluster, silenceMs: number): Redis | Cluster {
  if (typeof redis === 'string') return new Redis(redis, { socketTimeout: silenceMs })
  // isCluster, not instanceof: the app's client may come from another copy of ioredis.
  if (redis.isCluster) return (redis as Cluster).duplicate([], { redisOptions: { socketTimeout: silenceMs } })
  return (redis as Redis).duplicate({ socketTimeout: silenceMs })
}
