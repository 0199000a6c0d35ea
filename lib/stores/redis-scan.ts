import type { Cluster, Redis } from 'ioredis'

export type ScannedEntry =
  | { kind: 'token', key: string, ttlMs: number }
  | { kind: 'cutoff', key: string, cutoff: number, ttlMs: number }

// A key without TTL under our prefix was written by hand: keep it as long as any token could live.
const NO_TTL_MS = 100 * 365 * 24 * 3600 * 1000

function globEscape (text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** The nodes that hold keys: every primary of a Cluster, or the one server. */
function keyNodes (client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
}

async function readBatch (node: Redis, keys: string[], onEntry: (entry: ScannedEntry) => void): Promise<void> {
  const pipeline = node.pipeline()
  for (const key of keys) {
    if (key.endsWith(':cutoff')) pipeline.get(key)
    pipeline.pttl(key)
  }
  // exec() answers null only for a discarded MULTI, which a plain pipeline never is.
  const replies = await pipeline.exec() as Array<[Error | null, unknown]>
  let at = 0
  for (const key of keys) {
    const cutoff = key.endsWith(':cutoff') ? replies[at++]?.[1] : undefined
    const pttl = Number(replies[at++]?.[1])
    // A key that expired between SCAN and PTTL answers -2: it is handed on already expired, and dropped as such.
    const ttlMs = pttl === -1 ? NO_TTL_MS : pttl
    if (cutoff === undefined) onEntry({ kind: 'token', key, ttlMs })
    else onEntry({ kind: 'cutoff', key, cutoff: Number(cutoff), ttlMs })
  }
}

/**
 * Reads every revocation entry under `prefix` (SCAN, so Redis is never blocked the way KEYS would block it), node by
 * node on a Cluster, and hands each to onEntry with its remaining TTL. Returns how many entries it read.
 */
export async function scanEntries (client: Redis | Cluster, prefix: string, onEntry: (entry: ScannedEntry) => void): Promise<number> {
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
      const ours = keys.filter((key) => key.endsWith(':cutoff') || key.includes('}:jti'))
      if (ours.length > 0) await readBatch(node, ours, counting)
    } while (cursor !== '0')
  }
  return count
}
