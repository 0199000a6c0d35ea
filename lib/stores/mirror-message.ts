import { entryKind, redisPrefix } from '../keys.js'

// The wire format between every writer (RedisStore, whoever uses it: lookup and mirror instances, the CLI) and the
// mirrors. Entries travel without any prefix, so writers whose clients prefix keys differently still name one entry
// the same way; the channel carries the whole Redis prefix, so apps sharing a Redis under different prefixes never
// hear each other.

/**
 * What a write publishes: ['t', entry, ttlSeconds] for a token, ['c', entry, cutoff, ttlSeconds] for a subject's
 * cutoff, ['s', entry, cutoff, ttlSeconds] for a session's.
 */
export type MirrorMessage = ['t', string, number] | ['c', string, number, number] | ['s', string, number, number]

/** A mirror's own ping, which it expects to hear back: a heartbeat, or the marker that ends a sync. */
export type Ping = ['p', string]

/** `<client keyPrefix><keyPrefix>mirror`: ioredis never prefixes a channel, so the client's prefix is added here. */
export function mirrorChannel (client: { options: { keyPrefix?: string | undefined } }, keyPrefix: string): string {
  return redisPrefix(client, keyPrefix) + 'mirror'
}

function isFiniteNumber (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** The message, or undefined for anything that is not one of ours (a stranger publishing on the channel). */
export function parseMessage (text: string): MirrorMessage | Ping | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(value)) return undefined
  const [type, id, a, b] = value as unknown[]
  if (typeof id !== 'string') return undefined
  if (type === 'p' && value.length === 2) return ['p', id]
  if (type === 't' && value.length === 3 && entryKind(id) === 'token' && isFiniteNumber(a)) return ['t', id, a]
  if (type === 'c' && value.length === 4 && entryKind(id) === 'cutoff' && isFiniteNumber(a) && isFiniteNumber(b)) return ['c', id, a, b]
  if (type === 's' && value.length === 4 && entryKind(id) === 'session' && isFiniteNumber(a) && isFiniteNumber(b)) return ['s', id, a, b]
  return undefined
}
