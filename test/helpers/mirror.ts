import type { FastifyInstance } from 'fastify'
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
