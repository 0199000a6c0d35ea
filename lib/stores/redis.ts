import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { withDeadline } from '../deadline.js'
import { cutoffEntry, cutoffKey, jtiEntry, jtiKey, sessionEntry, sessionKey } from '../keys.js'
import type { Durability } from '../options.js'
import { writeDurably, type WriteCommand } from './durable-write.js'
import { MgetBatch } from './mget-batch.js'
import { mirrorChannel, type MirrorMessage } from './mirror-message.js'
import type { RevocationClaims, RevocationStore } from './store.js'

export interface RedisStoreOptions {
  /** An ioredis Redis or Cluster client. */
  client: Redis | Cluster
  /** Prefix of every key; default 'jwt-revoke:'. */
  keyPrefix?: string
  /** Close the client in close(): true only for a client this package created. */
  ownsClient?: boolean
  /** Where start() warns about a Redis configuration that can lose revocations. */
  log?: FastifyBaseLogger
  /** Writes resolve only once WAIT confirms this many replicas hold them (see writeDurably). */
  durability?: Durability | undefined
}

// Every write is published for mirrors in the same script as the write, whoever writes (a lookup or a mirror instance,
// the CLI, a RedisStore built by hand): no write can land unannounced, so a fleet that mixes them agrees on every
// revocation. A PUBLISH stores nothing in Redis: it is copied to the subscribers' connections, or dropped.

// A revocation never gets shorter: a second write of the same entry (a stale record, an instance with another
// clockSkew, the CLI fed an older copy of the token) keeps the longer TTL, and for a cutoff the later cutoff too, each
// on its own. A write that changes nothing is not published: every mirror already holds the entry at least as long
// (it heard the write that set it, or its sync read it), and mirrors keep the longer TTL and later cutoff of what they
// hear (DenyList), so the message could not change a mirror either. A key without TTL was set by hand: it is kept.
// A message says "at least this": the requested cutoff and TTL, which a mirror combines with what it holds as Redis did.

// KEYS[1] the entry's key; ARGV: ttl seconds, channel, message.
const SET_LONGER_AND_PUBLISH = `local pttl = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1]) * 1000
if pttl == -1 or pttl >= ms then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ms)
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`

// KEYS[1] the cutoff's key; ARGV: cutoff, ttl seconds, channel, message. A kept cutoff stays the string it was stored as.
const SET_LATER_CUTOFF = `local current = redis.call('GET', KEYS[1])
local cutoff = ARGV[1]
local ms = tonumber(ARGV[2]) * 1000
if tonumber(current) then
  local pttl = redis.call('PTTL', KEYS[1])
  if tonumber(current) >= tonumber(cutoff) then
    if pttl == -1 or pttl >= ms then return 0 end
    cutoff = current
  end
  if pttl == -1 then
    redis.call('SET', KEYS[1], cutoff, 'KEEPTTL')
    redis.call('PUBLISH', ARGV[3], ARGV[4])
    return 1
  end
  if pttl > ms then ms = pttl end
end
redis.call('SET', KEYS[1], cutoff, 'PX', ms)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`

/**
 * The production store: one key per revoked jti and one per subject cutoff, each with a TTL, so Redis forgets them
 * when the tokens would have expired anyway. A check is one command: MGET of the token's key and its subject's cutoff,
 * which share a hash tag (one slot on Redis Cluster). On a single Redis, one MGET per event-loop turn answers every
 * check of that turn (see MgetBatch).
 */
export class RedisStore implements RevocationStore {
  readonly client: Redis | Cluster
  readonly keyPrefix: string
  /** Where every write is published: `<client keyPrefix><keyPrefix>mirror`. */
  readonly channel: string
  readonly #ownsClient: boolean
  readonly #log: FastifyBaseLogger | undefined
  readonly #batch: MgetBatch | undefined
  readonly #durability: Durability | undefined
  /** Where writes go: with durability, a connection of their own, so that a WAIT never holds up the checks behind it. */
  readonly #writer: Redis | Cluster

  constructor (options: RedisStoreOptions) {
    this.client = options.client
    this.keyPrefix = options.keyPrefix ?? 'jwt-revoke:'
    this.#ownsClient = options.ownsClient ?? false
    this.channel = mirrorChannel(options.client, this.keyPrefix)
    this.#log = options.log
    // One MGET per event-loop turn for all its checks. A Cluster keeps one MGET per check: its keys span slots.
    if (isSingleRedis(options.client)) this.#batch = new MgetBatch(options.client)
    this.#durability = options.durability
    this.#writer = this.client
    if (this.#durability !== undefined) {
      // Redis#duplicate and Cluster#duplicate differ only in their optional arguments; called bare, both copy the client.
      this.#writer = (this.client as Redis).duplicate()
      // Its errors reach the caller through the writes that fail; this listener only keeps ioredis from printing them.
      this.#writer.on('error', () => {})
    }
  }

  /**
   * Warns when Redis may evict keys: every revocation key carries a TTL, so under memory pressure both the volatile-*
   * and the allkeys-* policies can silently drop a revocation, and the revoked token works again. Only 'noeviction'
   * (writes fail loudly instead) keeps the guarantee. A Redis that refuses CONFIG (managed services), or that does not
   * answer within a second (down at boot), is not asked: the check must not hold up the server's start.
   */
  async start (): Promise<void> {
    let policy: unknown
    try {
      policy = (await withDeadline(this.client.config('GET', 'maxmemory-policy') as Promise<unknown[]>, 1000))[1]
    } catch {
      return
    }
    if (policy !== 'noeviction') {
      this.#log?.warn({ maxmemoryPolicy: policy },
        "jwt-revoke: Redis maxmemory-policy is not 'noeviction': under memory pressure Redis may evict revocations")
    }
  }

  async isRevoked ({ jti, sub, iat, sid }: RevocationClaims): Promise<boolean> {
    // The token's keys share the subject's hash tag: one slot, one MGET. Nothing to look up without jti, sub or sid.
    if (jti === undefined && sub === undefined && sid === undefined) return false
    const keys: string[] = []
    if (jti !== undefined) keys.push(jtiKey(this.keyPrefix, jti, sub))
    if (sub !== undefined) keys.push(cutoffKey(this.keyPrefix, sub))
    const values = await this.#read(keys, sid === undefined ? undefined : sessionKey(this.keyPrefix, sid))
    let at = 0
    return (jti !== undefined && values[at++] != null) ||
      (sub !== undefined && isBeforeCutoff(iat, values[at++])) ||
      (sid !== undefined && isBeforeCutoff(iat, values[keys.length]))
  }

  /**
   * The values of keys, then of the session key if any. On a single Redis one MGET (of this turn's batch) reads them
   * all. On a Cluster the session key has its own hash tag, so it may be in another slot: it is read by a GET sent
   * beside the MGET, at once, so the check still waits for one round trip (two commands, on one or two nodes).
   */
  async #read (keys: string[], session: string | undefined): Promise<Array<string | null>> {
    const all = session === undefined ? keys : [...keys, session]
    if (this.#batch !== undefined) return await this.#batch.get(all)
    if (session === undefined || keys.length === 0) return await this.client.mget(all)
    const [values, cutoff] = await Promise.all([this.client.mget(keys), this.client.get(session)])
    return [...values, cutoff]
  }

  async revoke ({ jti, sub }: { jti: string, sub?: string | undefined }, ttlSeconds: number): Promise<void> {
    const entry = jtiEntry(jti, sub)
    const message: MirrorMessage = ['t', entry, ttlSeconds]
    await this.#write(['eval', SET_LONGER_AND_PUBLISH, 1, this.keyPrefix + entry, ttlSeconds, this.channel, JSON.stringify(message)])
  }

  async revokeSubject (sub: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.#writeCutoff('c', cutoffEntry(sub), cutoff, ttlSeconds)
  }

  async revokeSession (sid: string, cutoff: number, ttlSeconds: number): Promise<void> {
    await this.#writeCutoff('s', sessionEntry(sid), cutoff, ttlSeconds)
  }

  /** A subject's or a session's cutoff: the later cutoff and the longer TTL win, published by the same script. */
  async #writeCutoff (kind: 'c' | 's', entry: string, cutoff: number, ttlSeconds: number): Promise<void> {
    const message: MirrorMessage = [kind, entry, cutoff, ttlSeconds]
    await this.#write(['eval', SET_LATER_CUTOFF, 1, this.keyPrefix + entry, cutoff, ttlSeconds, this.channel, JSON.stringify(message)])
  }

  async close (): Promise<void> {
    if (this.#writer !== this.client) await closeClient(this.#writer)
    if (this.#ownsClient) await closeClient(this.client)
  }

  async #write (command: WriteCommand): Promise<void> {
    if (this.#durability === undefined) await this.client.call(...command)
    else await writeDurably(this.#writer, command, this.#durability)
  }
}

// QUIT waits behind queued commands, forever when Redis never answered: a client that is not ready is just dropped.
// A QUIT on a connection that went silent fails when socketTimeout drops it: it is closed either way.
async function closeClient (client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
  else client.disconnect()
}

function isSingleRedis (client: Redis | Cluster): client is Redis {
  return !client.isCluster
}

function isBeforeCutoff (iat: number | undefined, cutoff: string | null | undefined): boolean {
  if (cutoff == null) return false
  // A token without iat cannot prove it was issued after the cutoff.
  return iat === undefined || iat <= Number(cutoff)
}
