import { createHash } from 'node:crypto'

// The only place that knows how Redis keys look. Ids made only of these characters are kept as they are (readable in
// redis-cli); every other id is replaced by a hash. '~' cannot occur in a kept id, so a kept id and a hashed one never
// collide, no id can break out of its hash tag, and a 1 MB id still makes a short key.
const PLAIN_ID = /^[A-Za-z0-9_.@=+-]{1,128}$/

export function encodeId (id: string): string {
  return PLAIN_ID.test(id) ? id : '~' + createHash('sha256').update(id, 'utf8').digest('base64url')
}

// Both keys a check reads carry the subject's hash tag (or the jti's, for a token without subject), so on Redis
// Cluster they live in one slot and one MGET answers for both.
function subjectTag (prefix: string, sub: string): string {
  return `${prefix}{${encodeId(sub)}}`
}

// A token without subject is keyed '{J}:jti', one with a subject '{S}:jti:J': the shapes differ, so a token without sub
// and a token whose sub equals its jti never share a key.
export function jtiKey (prefix: string, jti: string, sub: string | undefined): string {
  const id = encodeId(jti)
  return sub === undefined ? `${prefix}{${id}}:jti` : `${subjectTag(prefix, sub)}:jti:${id}`
}

export function cutoffKey (prefix: string, sub: string): string {
  return `${subjectTag(prefix, sub)}:cutoff`
}
