import { createHash } from 'node:crypto'

// The only place that knows how Redis keys look. Ids made only of these characters are kept as they are (readable in
// redis-cli); every other id is replaced by a hash. '~' cannot occur in a kept id, so a kept id and a hashed one never
// collide, no id can break out of its hash tag, and a 1 MB id still makes a short key.
const PLAIN_ID = /^[A-Za-z0-9_.@=+-]{1,128}$/

export function encodeId (id: string): string {
  return PLAIN_ID.test(id) ? id : '~' + createHash('sha256').update(id, 'utf8').digest('base64url')
}

// An entry is a key without any prefix: '{S}:jti:J', '{J}:jti', '{S}:cutoff' or '{SID}:sid'. Mirrors hold entries and writers
// publish entries, so a mirror, a lookup instance and the CLI agree on an entry whatever prefixes each one's client
// adds in front of it.

// Both keys a check reads carry the subject's hash tag (or the jti's, for a token without subject), so on Redis
// Cluster they live in one slot and one MGET answers for both. A token without subject is '{J}:jti', one with a
// subject '{S}:jti:J': the shapes differ, so a token without sub and a token whose sub equals its jti never share a key.
export function jtiEntry (jti: string, sub: string | undefined): string {
  const id = encodeId(jti)
  return sub === undefined ? `{${id}}:jti` : `{${encodeId(sub)}}:jti:${id}`
}

export function cutoffEntry (sub: string): string {
  return `{${encodeId(sub)}}:cutoff`
}

// A session's cutoff is filed under the session id's own hash tag: a logout names the session, often without its
// subject, so the key cannot depend on the subject. On Redis Cluster it may live in another slot than the token's
// other keys (see RedisStore.isRevoked).
export function sessionEntry (sid: string): string {
  return `{${encodeId(sid)}}:sid`
}

export function sessionKey (prefix: string, sid: string): string {
  return prefix + sessionEntry(sid)
}

export function jtiKey (prefix: string, jti: string, sub: string | undefined): string {
  return prefix + jtiEntry(jti, sub)
}

export function cutoffKey (prefix: string, sub: string): string {
  return prefix + cutoffEntry(sub)
}

// An encoded id: a kept id, or '~' and a SHA-256 in base64url (43 characters). Neither holds ':', '{' or '}', so the
// kind of an entry is read from its shape alone, whatever the ids are ('cutoff', 'jti', colons, braces, hashes).
const ENCODED_ID = '(?:[A-Za-z0-9_.@=+-]{1,128}|~[A-Za-z0-9_-]{43})'
const ENTRY = new RegExp(`^\\{${ENCODED_ID}\\}:(?:jti(?::${ENCODED_ID})?|(cutoff)|(sid))$`)

export type EntryKind = 'token' | 'cutoff' | 'session'

/** What an entry is, or undefined for anything this package never writes (another app's key under the same prefix). */
export function entryKind (entry: string): EntryKind | undefined {
  const match = ENTRY.exec(entry)
  if (match === null) return undefined
  if (match[2] !== undefined) return 'session'
  return match[1] === undefined ? 'token' : 'cutoff'
}

/** The SCAN MATCH pattern of every entry under a prefix: the prefix taken literally (glob characters escaped), then '{'. */
export function entryPattern (prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*`
}

/**
 * The prefix a key really has in Redis: the ioredis client's own keyPrefix (ioredis adds it to every key a command
 * names, but not to SCAN's MATCH nor to pub/sub channels) followed by the plugin's keyPrefix.
 */
export function redisPrefix (client: { options: { keyPrefix?: string | undefined } }, keyPrefix: string): string {
  return (client.options.keyPrefix ?? '') + keyPrefix
}
