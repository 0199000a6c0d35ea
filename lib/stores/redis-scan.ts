import { Command, type Cluster, type Pipeline, type Redis } from 'ioredis'
import { entryKind, entryPattern, redisPrefix } from '../keys.js'
import { LONGEST_TTL_MS } from '../ttl.js'

/** An entry (its key without any prefix) with its remaining TTL, and for a cutoff its value. */
export type ScannedEntry =
  | { kind: 'token', entry: string, ttlMs: number }
  | { kind: 'cutoff' | 'session', entry: string, cutoff: number, ttlMs: number }

type OnEntry = (entry: ScannedEntry) => void

/** Keys each SCAN step looks at: a step holds Redis a few milliseconds at most. */
const SCAN_COUNT = 1000

/** The nodes that hold keys: every primary of a Cluster, or the one server. */
function keyNodes (client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
}

// SCAN answers keys as they are in Redis, with every prefix. They are read back as they are: a command built here
// carries no keyPrefix, where the client's own commands would prefix them a second time.
function raw (name: string, key: string): Command {
  return new Command(name, [key], { replyEncoding: 'utf8' })
}

/** Hands on one scanned key: only keys shaped as this package writes them count. Answers whether it was one. */
function deliver (key: string, prefixLength: number, pttl: number, cutoff: unknown, onEntry: OnEntry): boolean {
  const entry = key.slice(prefixLength)
  const kind = entryKind(entry)
  if (kind === undefined) return false
  // A key that expired between SCAN and PTTL answers -2: it is handed on already expired, and dropped as such.
  // A key without TTL under our prefix was written by hand: kept as long as any token could live.
  const ttlMs = pttl === -1 ? LONGEST_TTL_MS : pttl
  if (kind === 'token') onEntry({ kind, entry, ttlMs })
  else onEntry({ kind, entry, cutoff: Number(cutoff), ttlMs })
  return true
}

// One round trip per SCAN step on a single Redis: the step, each key's PTTL and each cutoff's value (a subject's or a
// session's), read inside Redis. Sending a PTTL command per key costs the client more than Redis (about 8 µs a key
// through ioredis, where the script's whole step is 1-3 µs a key). The keys are not declared to the script, which only a single Redis accepts.
// A key's last byte ('f' of ':cutoff', 'd' of ':sid') is looked at before any substring is made: Lua interns every
// string it makes, which cost Redis 7 % of the step when each key's ending was cut out.
const SCAN_STEP = `local step = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local keys = step[2]
local ttls = {}
local cutoffs = {}
local byte, sub, call = string.byte, string.sub, redis.call
for i = 1, #keys do
  local key = keys[i]
  ttls[i] = call('PTTL', key)
  local last = byte(key, -1)
  if (last == 102 and sub(key, -7) == ':cutoff') or (last == 100 and sub(key, -4) == ':sid') then
    cutoffs[#cutoffs + 1] = i
    cutoffs[#cutoffs + 1] = call('GET', key)
  end
end
return {step[1], keys, ttls, cutoffs}`

type Step = [string, string[], number[], Array<number | string | null>]

async function scanSingle (node: Redis, prefix: string, match: string, onEntry: OnEntry): Promise<number> {
  const step = async (cursor: string): Promise<Step> => await node.eval(SCAN_STEP, 0, cursor, match, SCAN_COUNT) as Step
  let count = 0
  let next = step('0')
  for (;;) {
    const [cursor, keys, ttls, cutoffs] = await next
    // The next step runs in Redis while this one is filed here. Should filing throw, that step's answer is dropped.
    if (cursor !== '0') (next = step(cursor)).catch(() => {})
    const values = new Map<number, unknown>()
    for (let i = 0; i < cutoffs.length; i += 2) values.set(Number(cutoffs[i]) - 1, cutoffs[i + 1])
    for (let i = 0; i < keys.length; i++) {
      if (deliver(keys[i] as string, prefix.length, Number(ttls[i]), values.get(i), onEntry)) count++
    }
    if (cursor === '0') return count
  }
}

interface Found { key: string, cutoff: boolean }

// On a Cluster a script may not touch keys of several slots: each node's SCAN steps are followed by a pipeline of
// PTTLs (and GETs for subject and session cutoffs) on that node's own connection.
async function scanNode (node: Redis, prefix: string, match: string, onEntry: OnEntry): Promise<number> {
  let count = 0
  let cursor = '0'
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT)
    cursor = next
    const ours: Found[] = []
    for (const key of keys) {
      const kind = entryKind(key.slice(prefix.length))
      if (kind !== undefined) ours.push({ key, cutoff: kind !== 'token' })
    }
    if (ours.length === 0) continue
    // pipeline() is typed as a plain chain of commands; sendCommand, which takes a command as built, is Pipeline's own.
    const pipeline = node.pipeline() as unknown as Pipeline
    for (const { key, cutoff } of ours) {
      if (cutoff) pipeline.sendCommand(raw('get', key))
      pipeline.sendCommand(raw('pttl', key))
    }
    // exec() answers null only for a discarded MULTI, which a plain pipeline never is.
    const replies = await pipeline.exec() as Array<[Error | null, unknown]>
    let at = 0
    for (const { key, cutoff } of ours) {
      const value = cutoff ? replies[at++]?.[1] : undefined
      if (deliver(key, prefix.length, Number(replies[at++]?.[1]), value, onEntry)) count++
    }
  } while (cursor !== '0')
  return count
}

/**
 * Reads every revocation entry under `keyPrefix` (SCAN, so Redis is never blocked the way KEYS would block it), node
 * by node on a Cluster, and hands each to onEntry with its remaining TTL, read after the step that found it (so an
 * expiry computed from the time onEntry runs is never earlier than Redis's). Keys are matched with the client's own
 * keyPrefix in front (ioredis leaves SCAN's MATCH alone), and only keys shaped as this package writes them count.
 * Returns how many entries it read.
 */
export async function scanEntries (client: Redis | Cluster, keyPrefix: string, onEntry: OnEntry): Promise<number> {
  const prefix = redisPrefix(client, keyPrefix)
  const match = entryPattern(prefix)
  if (!client.isCluster) return await scanSingle(client as Redis, prefix, match, onEntry)
  let count = 0
  for (const node of keyNodes(client)) count += await scanNode(node, prefix, match, onEntry)
  return count
}

/** How many keys the nodes hold in all (ours and any other app's): an upper bound of what a load will read. */
export async function keyCount (client: Redis | Cluster): Promise<number> {
  const sizes = await Promise.all(keyNodes(client).map(async (node) => await node.dbsize()))
  return sizes.reduce((sum, size) => sum + size, 0)
}
