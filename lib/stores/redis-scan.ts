import { Command, type Cluster, type Pipeline, type Redis } from 'ioredis'
import { entryKind, redisPrefix, type EntryKind } from '../keys.js'

/** An entry (its key without any prefix) with its remaining TTL, and for a cutoff its value. */
export type ScannedEntry =
  | { kind: 'token', entry: string, ttlMs: number }
  | { kind: 'cutoff' | 'session', entry: string, cutoff: number, ttlMs: number }

// A key without TTL under our prefix was written by hand: keep it as long as any token could live.
const NO_TTL_MS = 100 * 365 * 24 * 3600 * 1000

function globEscape (text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** The nodes that hold keys: every primary of a Cluster, or the one server. */
function keyNodes (client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
}

// SCAN answers keys as they are in Redis, with every prefix. They are read back as they are: a command built here
// carries no keyPrefix, where the client's own commands would prefix them a second time.
function raw (name: string, key: string): Command {
  return new Command(name, [key], { replyEncoding: 'utf8' })
}

interface Found { key: string, entry: string, kind: EntryKind }

async function readBatch (node: Redis, found: Found[], onEntry: (entry: ScannedEntry) => void): Promise<void> {
  // pipeline() is typed as a plain chain of commands; sendCommand, which takes a command as built, is Pipeline's own.
  const pipeline = node.pipeline() as unknown as Pipeline
  for (const { key, kind } of found) {
    if (kind !== 'token') pipeline.sendCommand(raw('get', key))
    pipeline.sendCommand(raw('pttl', key))
  }
  // exec() answers null only for a discarded MULTI, which a plain pipeline never is.
  const replies = await pipeline.exec() as Array<[Error | null, unknown]>
  let at = 0
  for (const { entry, kind } of found) {
    const cutoff = kind !== 'token' ? replies[at++]?.[1] : undefined
    const pttl = Number(replies[at++]?.[1])
    // A key that expired between SCAN and PTTL answers -2: it is handed on already expired, and dropped as such.
    const ttlMs = pttl === -1 ? NO_TTL_MS : pttl
    if (kind === 'token') onEntry({ kind, entry, ttlMs })
    else onEntry({ kind, entry, cutoff: Number(cutoff), ttlMs })
  }
}

/**
 * Reads every revocation entry under `keyPrefix` (SCAN, so Redis is never blocked the way KEYS would block it), node
 * by node on a Cluster, and hands each to onEntry with its remaining TTL. Keys are matched with the client's own
 * keyPrefix in front (ioredis leaves SCAN's MATCH alone), and only keys shaped as this package writes them count.
 * Returns how many entries it read.
 */
export async function scanEntries (client: Redis | Cluster, keyPrefix: string, onEntry: (entry: ScannedEntry) => void): Promise<number> {
  const prefix = redisPrefix(client, keyPrefix)
  const match = `${globEscape(prefix)}{*`
  let count = 0
  const counting = (entry: ScannedEntry): void => {
    count++
    onEntry(entry)
  }
  for (const node of keyNodes(client)) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      cursor = next
      const ours: Found[] = []
      for (const key of keys) {
        const entry = key.slice(prefix.length)
        const kind = entryKind(entry)
        if (kind !== undefined) ours.push({ key, entry, kind })
      }
      if (ours.length > 0) await readBatch(node, ours, counting)
    } while (cursor !== '0')
  }
  return count
}
