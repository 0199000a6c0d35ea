import type { Redis } from 'ioredis'
import { entryKind, entryPattern } from '../keys.js'

/**
 * Whether any key under `prefix` has the shape of an entry of this package (`<prefix>{<id>}:jti...`, `...:cutoff`).
 * SCAN stops at the first batch that holds one, so a deny-list in use answers at once; a prefix nothing uses costs one
 * pass over the keyspace, in steps that never block Redis.
 */
export async function prefixHasEntries (client: Redis, prefix: string): Promise<boolean> {
  const match = entryPattern(prefix)
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    if (keys.some((key) => entryKind(key.slice(prefix.length)) !== undefined)) return true
    cursor = next
  } while (cursor !== '0')
  return false
}

const OTHER_PREFIX = 'the app most likely uses another keyPrefix: pass the whole prefix of its keys with --key-prefix ' +
  "(its ioredis client's keyPrefix, if any, then the plugin's keyPrefix)"

/** Why a write to a prefix without entries stopped: most often the app sets a keyPrefix and the CLI was not given it. */
export function emptyPrefixRefusal (prefix: string): string {
  return `nothing written: the key prefix '${prefix}' holds no entry of fastify-jwt-revoke on this Redis, so ${OTHER_PREFIX}; ` +
    "if this is the app's very first revocation, pass --force"
}

/** The warning of a read (check, stats) under a prefix without entries. */
export function emptyPrefixWarning (prefix: string): string {
  return `the key prefix '${prefix}' holds no entry of fastify-jwt-revoke on this Redis: if the app has revoked anything, ${OTHER_PREFIX}`
}
