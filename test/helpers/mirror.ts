import type { FastifyInstance } from 'fastify'
import type { MirrorStore, RevocationClaims, RevocationStore } from '../../index.js'
import { bearer } from './app.js'

/** Polls until the request's status is `status`; returns the milliseconds it took, or throws after limitMs. */
export async function statusWithin (app: FastifyInstance, token: string, status: number, limitMs = 10_000): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < limitMs) {
    if ((await app.inject({ url: '/me', headers: bearer(token) })).statusCode === status) return Date.now() - started
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`status ${status} not reached within ${limitMs} ms`)
}

/** Polls until `condition` holds; throws after limitMs, naming what it waited for. */
export async function waitFor (what: string, condition: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<number> {
  const started = Date.now()
  while (!await condition()) {
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return Date.now() - started
}

/**
 * The claims the store does not refuse. A mirror in sync answers false at once for what it lacks; for what it holds it
 * asks Redis to confirm, so every answer is awaited.
 */
export async function notRefused (store: RevocationStore, claims: RevocationClaims[]): Promise<RevocationClaims[]> {
  const answers = await Promise.all(claims.map(async (one) => await store.isRevoked(one)))
  return claims.filter((_, i) => !answers[i])
}

/**
 * One round of writes racing a mirror's start: starts `mirror`, makes 20 writes spread over its start (every other
 * round on the next event-loop turn, the others 1 to 4 ms apart), so that they land before the subscription, during
 * the SCAN, while the end marker travels and just after. `write(i)` makes the i-th and names a token it revoked.
 * Answers whether the mirror, in sync, held every one of them within 2 s.
 */
export async function writesDuringStart (mirror: MirrorStore, round: number, write: (i: number) => Promise<RevocationClaims>): Promise<boolean> {
  const starting = mirror.start()
  const writes: Array<Promise<RevocationClaims>> = []
  for (let i = 0; i < 20; i++) {
    writes.push(write(i))
    await new Promise((resolve) => round % 2 === 0 ? setImmediate(resolve) : setTimeout(resolve, 1 + (round % 4)))
  }
  const [, ...revoked] = await Promise.all([starting, ...writes])
  const held = async (): Promise<boolean> => mirror.status().synced && (await notRefused(mirror, revoked)).length === 0
  return await waitFor(`round ${round}: every write reaches the mirror`, held, 2000).then(() => true, () => false)
}
