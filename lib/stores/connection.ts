import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'

/**
 * What the plugin reads of a client it borrows: whether it is a Cluster, and the options it was made with (plus a
 * Cluster's startup nodes). Structural, so that a client of ioredis 5 (what @fastify/redis 7 and 8 give) is accepted
 * as well as one of ioredis 6: the plugin never sends a command on it (see ownConnection).
 */
export interface BorrowedClient {
  readonly isCluster: boolean
  readonly options: object
}

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
 * A borrowed client is copied rather than used: resetting a connection is only safe on one that carries nothing
 * but the plugin's short commands. The app's own connection may rightly stay quiet longer (BLPOP, a subscriber, a big
 * reply), and its commands ahead of a check would delay the check. The cost is one more connection per instance (per
 * node on a Cluster).
 *
 * The copy is made the way ioredis's duplicate() makes one (the same options, some overridden), but by the plugin's
 * own ioredis, not the app's: ioredis before 5.4 ignores socketTimeout (a silent connection would never recover), and
 * 5.4.0 prints "GOT DATA, CLEARING TIMER" on every reply once it is set. Two overrides make reads see every
 * acknowledged write, whatever the app's client says: a Cluster copy reads primaries only (`scaleReads: 'master'`;
 * with 'slave' or 'all', a lagging replica would answer "not revoked" after revoke() resolved), and a Sentinel copy
 * connects to the primary (`role: 'master'`; ignored without sentinels).
 */
export function ownConnection (redis: string | BorrowedClient, silenceMs: number): Redis | Cluster {
  if (typeof redis === 'string') return new Redis(redis, { socketTimeout: silenceMs })
  if (redis.isCluster) {
    const { options, startupNodes } = redis as unknown as { options: ClusterOptions, startupNodes: ConstructorParameters<typeof Cluster>[0] }
    return new Cluster(startupNodes.slice(), {
      ...options,
      scaleReads: 'master',
      redisOptions: { ...options.redisOptions, socketTimeout: silenceMs }
    })
  }
  return new Redis({ ...redis.options as RedisOptions, socketTimeout: silenceMs, role: 'master' })
}
