import { request as httpRequest, type ClientRequest } from 'node:http'
import { randomUUID } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtRevoke, { type JwtRevokeOptions, type WatchOptions } from '../../index.js'
import { SECRET } from './app.js'

export interface WatchApp {
  app: FastifyInstance
  /** http://127.0.0.1:port */
  base: string
  sign (claims?: Record<string, unknown>): string
}

/**
 * An app listening on a real port with a long-lived route, GET /stream: authenticated, it writes "open" and then
 * stays open until its token is revoked, when it writes the reason and ends. `?onGap=close` asks for that policy,
 * `?revokeFirst` revokes the token before watching it, `?stop` forgets the watch at once.
 */
export async function buildWatchApp (t: { teardown (fn: () => unknown): void }, plugin: JwtRevokeOptions = {}): Promise<WatchApp> {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke, plugin)
  app.get<{ Querystring: { onGap?: WatchOptions['onGap'], revokeFirst?: string, stop?: string } }>('/stream', { onRequest: app.authenticate }, async (request, reply) => {
    // Revoked between the request's check and the watch: the watch's own first check must catch it.
    if (request.query.revokeFirst !== undefined) await request.revokeToken()
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain' })
    reply.raw.write('open\n')
    const stop = request.onRevoked(({ reason }) => { reply.raw.end(`${reason}\n`) }, { onGap: request.query.onGap })
    // The app may forget the watch before the connection ends (and more than once).
    if (request.query.stop !== undefined) {
      stop()
      stop()
    }
  })
  app.get('/unverified', async (request) => {
    try {
      request.onRevoked(() => {})
      return { code: 'none' }
    } catch (error) {
      return { code: (error as { code: string }).code }
    }
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const sign = (claims: Record<string, unknown> = {}): string => app.jwt.sign({ sub: 'user-1', jti: randomUUID(), ...claims }, { expiresIn: 3600 })
  return { app, base, sign }
}

export interface OpenStream {
  /** Resolves with what the stream said after "open" once the server ends it (the reason). */
  ended: Promise<string>
  /** Whether the server has ended it yet. */
  readonly done: boolean
  /** The client hangs up. */
  abort (): void
}

/** Opens GET /stream with the token; resolves once the server said "open" (the watch is registered by then). */
export function openStream (base: string, token: string, query = ''): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    let done = false
    let endedResolve: (text: string) => void
    const ended = new Promise<string>((resolve) => { endedResolve = resolve })
    const request: ClientRequest = httpRequest(`${base}/stream${query}`, { headers: { authorization: `Bearer ${token}` } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET /stream answered ${response.statusCode}`))
        response.resume()
        return
      }
      let text = ''
      let opened = false
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        if (!opened && text.startsWith('open\n')) {
          opened = true
          resolve({ ended, get done () { return done }, abort: () => request.destroy() })
        }
      })
      response.on('end', () => {
        done = true
        endedResolve(text.slice('open\n'.length).trim())
      })
      response.on('error', () => {})
    })
    request.on('error', (error) => { if (!done) reject(error) })
    request.end()
  })
}

/** Waits until the check is true, polling every 10 ms, or fails after `ms` with the message. */
export async function until (check: () => boolean, ms: number, message: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Whether the promise settles within `ms`. */
export async function settlesWithin (promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  const settled = await Promise.race([promise.then(() => true, () => true), timeout])
  clearTimeout(timer)
  return settled
}
