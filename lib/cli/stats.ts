import type { Redis } from 'ioredis'
import { scanEntries } from '../stores/redis-scan.js'
import type { Target } from './args.js'
import { withRedis } from './connect.js'
import { formatBytes, type Outcome } from './output.js'
import { emptyPrefixWarning } from './prefix.js'

// MEMORY USAGE is asked in pipelines of this many keys: one round trip per batch, never one huge reply.
const BATCH = 1000

interface EntryCounts { tokens: number, subjects: number, sessions: number, keys: string[] }

/** Live entries under the prefix, read with the plugin's own SCAN-based reader (never KEYS, which blocks Redis). */
async function countEntries (client: Redis, prefix: string): Promise<EntryCounts> {
  const counts: EntryCounts = { tokens: 0, subjects: 0, sessions: 0, keys: [] }
  // A key that expires between SCAN and PTTL is still counted: a figure a millisecond old, as any count of live keys is.
  await scanEntries(client, prefix, (entry) => {
    if (entry.kind === 'token') counts.tokens++
    else if (entry.kind === 'session') counts.sessions++
    else counts.subjects++
    // The CLI's client has no keyPrefix of its own: --key-prefix is the whole prefix.
    counts.keys.push(prefix + entry.entry)
  })
  return counts
}

async function memoryOf (client: Redis, keys: string[]): Promise<number> {
  let bytes = 0
  for (let start = 0; start < keys.length; start += BATCH) {
    const pipeline = client.pipeline()
    for (const key of keys.slice(start, start + BATCH)) pipeline.call('MEMORY', 'USAGE', key)
    // A key gone since the scan answers null, which Number() counts as 0.
    for (const [, reply] of await pipeline.exec() as Array<[Error | null, unknown]>) bytes += Number(reply)
  }
  return bytes
}

function infoField (info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

export async function stats (target: Target): Promise<Outcome> {
  const { tokens, subjects, sessions, bytes, info } = await withRedis(target.redisUrl, async (client) => {
    const counts = await countEntries(client, target.keyPrefix)
    return { ...counts, bytes: await memoryOf(client, counts.keys), info: await client.info('memory') }
  })
  const usedMemory = Number(infoField(info, 'used_memory'))
  const policy = infoField(info, 'maxmemory_policy')
  // Every entry has a TTL, so volatile-* policies may evict them as readily as allkeys-*: only noeviction is safe.
  const warning = policy === 'noeviction' ? '' : `\nwarning: maxmemory-policy is ${policy}: Redis may evict revocations under memory pressure; use noeviction`
  return {
    code: 0,
    warning: tokens + subjects + sessions === 0 ? emptyPrefixWarning(target.keyPrefix) : undefined,
    json: { command: 'stats', keyPrefix: target.keyPrefix, tokens, subjects, sessions, entries: tokens + subjects + sessions, memoryBytes: bytes, usedMemory, maxmemoryPolicy: policy },
    text: [
      `Live revocation entries under '${target.keyPrefix}':`,
      `  revoked token ids: ${tokens}`,
      `  subject cutoffs:   ${subjects}`,
      `  session cutoffs:   ${sessions}`,
      `  memory:            ${formatBytes(bytes)} (MEMORY USAGE of these keys; Redis uses ${formatBytes(usedMemory)} in all)`,
      `  maxmemory-policy:  ${policy}`
    ].join('\n') + warning
  }
}
