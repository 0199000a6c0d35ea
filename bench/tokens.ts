import { createHmac } from 'node:crypto'
import { runConcurrently } from './pool.js'

// Tokens are signed here with node:crypto, independently of any server: every server variant verifies the same HS256
// tokens with its own @fastify/jwt, and the parent can make them before any server is up.

export const SECRET = 'a-benchmark-secret-that-is-long-enough-for-hs256'

/** Subjects the load uses; the first SUBJECTS_WITH_CUTOFF of them also have an (older) subject cutoff stored. */
export const LOAD_SUBJECTS = 100
export const SUBJECTS_WITH_CUTOFF = 50
/** Live tokens autocannon cycles through, so the store is asked about many keys, not one hot key. */
export const LOAD_TOKENS = 200
/** Revoked ids preloaded into every store, so lookups never run against an empty set. */
export const PRELOADED_REVOCATIONS = 5000

const ONE_HOUR = 3600

export interface BenchPayload {
  sub: string
  jti: string
  iat: number
  exp: number
  [claim: string]: unknown
}

function base64url (value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

const HEADER = base64url({ alg: 'HS256', typ: 'JWT' })

export function sign (payload: BenchPayload): string {
  const body = `${HEADER}.${base64url(payload)}`
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`
}

/** One clock for a whole run: the cutoffs are an hour before it, so every load token (issued at it) passes them. */
export function runClock (): number {
  return Math.floor(Date.now() / 1000)
}

export function loadPayload (now: number, i: number): BenchPayload {
  return { sub: `user-${i % LOAD_SUBJECTS}`, jti: `live-${i}`, iat: now, exp: now + ONE_HOUR }
}

/** Revoked entries share the load's subjects (and many more), as a real deny-list would. */
export function revokedPayload (now: number, i: number): BenchPayload {
  return { sub: `user-${i % 1000}`, jti: `revoked-${i}`, iat: now, exp: now + ONE_HOUR }
}

export function loadTokens (now: number): string[] {
  return Array.from({ length: LOAD_TOKENS }, (_, i) => sign(loadPayload(now, i)))
}

/** What a revocation-enforcing server must refuse with 401. */
export function revokedToken (now: number): string {
  return sign(revokedPayload(now, 0))
}

/** The state every store starts a run with: revoked ids, and subject cutoffs older than every load token. */
export interface Preload {
  revoke (payload: BenchPayload): Promise<void>
  revokeSubject (sub: string, options: { before: number }): Promise<unknown>
}

export async function preload (target: Preload, now: number): Promise<void> {
  // 100 in flight: thousands at once could outlast the plugin's storeTimeout while queued.
  await runConcurrently(PRELOADED_REVOCATIONS, 100, (i) => target.revoke(revokedPayload(now, i)))
  await runConcurrently(SUBJECTS_WITH_CUTOFF, 100, async (i) => { await target.revokeSubject(`user-${i}`, { before: now - ONE_HOUR }) })
}
