import type { Redis } from 'ioredis'

/**
 * Whether any key under `prefix` has the shape of an entry of this package (`<prefix>{<id>}:jti...`, `...:cutoff`).
 * SCAN stops at the first batch that holds one, so a deny-list in use answers at once; a prefix nothing uses costs one
 * pass over the keyspace, in steps that never block Redis.
 */
export async function prefixHasEntries (client: Redis, prefix: string): Promise<boolean> {
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*`
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
    if (keys.some((key) => key.endsWith(':cutoff') || key.includes('}:jti') || key.endsWith('}:sid'))) return true
    cursor = next
  } while (cursor !== '0')
  return false
}

/** The warning for a prefix without entries: most often the app sets a keyPrefix and the CLI was not given it. */
export function emptyPrefixWarning (prefix: string, when: 'before' | 'now'): string {
  return when === 'before'
    ? `the key prefix '${prefix}' held no entry of fastify-jwt-revoke before this command: unless this is the app's ` +
      'first revocation, the app uses another keyPrefix (pass the same with --key-prefix)'
    : `the key prefix '${prefix}' holds no entry of fastify-jwt-revoke on this Redis: if the app has revoked anything, ` +
      'it uses another keyPrefix (pass the same with --key-prefix)'
}
