import fastifyWebsocket from '@fastify/websocket'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify'
import type { WebSocket } from 'ws'
import { accessClaims, accessOnly } from '../guards.js'
import { authenticated } from '../schemas.js'
import { asAccessClaims, type AccessPayload } from '../tokens.js'
import { bearerAuth, type RouteDeps } from './deps.js'

/**
 * WebSocket close codes of GET /ws (the 4000-4999 range is the application's): a client reconnects with a fresh
 * access token after CLOSE_EXPIRED, and must log in again after CLOSE_REVOKED.
 */
export const CLOSE_REVOKED = 4001
export const CLOSE_EXPIRED = 4002

/** Milliseconds between the comments that keep an idle event stream open through proxies. */
const KEEPALIVE_MS = 15_000

/**
 * Ends the connection when its access token expires (a socket must not outlive its token), unless rebind() moves it
 * to a newer token first. Answers the function that cancels it.
 */
function expiryTimer (claims: AccessPayload, end: () => void): () => void {
  const timer = setTimeout(end, Math.max(0, claims.exp * 1000 - Date.now()))
  return () => { clearTimeout(timer) }
}

/** What a WebSocket client may send: a ping, or a newer access token of the same session after a refresh. */
type ClientMessage = { type: 'ping' } | { type: 'rebind', accessToken: string }

function parse (data: unknown): ClientMessage | undefined {
  try {
    const message = JSON.parse(String(data)) as Partial<{ type: unknown, accessToken: unknown }>
    if (message.type === 'ping') return { type: 'ping' }
    if (message.type === 'rebind' && typeof message.accessToken === 'string') return { type: 'rebind', accessToken: message.accessToken }
  } catch {}
  return undefined
}

/**
 * A WebSocket bound to one access token at a time: closed with CLOSE_REVOKED when that token is revoked (logout,
 * logout everywhere, an admin's forced logout, a password change, on any instance), with CLOSE_EXPIRED when it
 * expires. A refresh does not end it: the rotation revokes nothing, and the client sends the new access token of the
 * same session ({ type: 'rebind' }), which the socket watches from then on.
 */
function serveSocket (app: FastifyInstance, socket: WebSocket, first: AccessPayload, stopFirst: () => void): void {
  let claims = first
  let stopWatch = stopFirst
  const close = (code: number, reason: string): void => { socket.close(code, reason) }
  let stopExpiry = expiryTimer(claims, () => close(CLOSE_EXPIRED, 'token expired'))
  const send = (message: object): void => { socket.send(JSON.stringify(message)) }

  async function rebind (accessToken: string): Promise<void> {
    let next: AccessPayload | undefined
    try {
      next = asAccessClaims(app.jwt.verify(accessToken))
    } catch {}
    // Only a newer token of the same session: a socket never changes hands.
    if (next === undefined || next.sub !== claims.sub || next.sid !== claims.sid || await app.isRevoked(next)) {
      send({ type: 'error', error: 'rebind refused' })
      return
    }
    if (socket.readyState !== socket.OPEN) return
    stopWatch()
    stopExpiry()
    claims = next
    stopWatch = app.jwtRevoke.watch(next, () => close(CLOSE_REVOKED, 'token revoked'))
    stopExpiry = expiryTimer(next, () => close(CLOSE_EXPIRED, 'token expired'))
    send({ type: 'rebound', exp: next.exp })
  }

  socket.on('message', (data) => {
    const message = parse(data)
    if (message === undefined) send({ type: 'error', error: 'unknown message' })
    else if (message.type === 'ping') send({ type: 'pong' })
    else rebind(message.accessToken).catch((error: unknown) => { app.log.error({ err: error }, 'auth-server: rebind failed') })
  })
  socket.on('close', () => {
    stopWatch()
    stopExpiry()
  })
  send({ type: 'hello', sub: claims.sub, sid: claims.sid, exp: claims.exp })
}

/**
 * Server-sent events bound to the access token: the stream ends with an `event: revoked` when the token is revoked,
 * and an `event: expired` when it expires (the client reconnects with the new access token of its session).
 */
function serveEvents (reply: FastifyReply, claims: AccessPayload, open: Set<() => void>, watch: (listener: () => void) => () => void): void {
  const raw = reply.raw
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
  const write = (event: string, data: object): void => { raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
  const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS)
  const end = (event: string): void => {
    if (raw.writableEnded) return
    write(event, {})
    raw.end()
  }
  const stopWatch = watch(() => end('revoked'))
  const stopExpiry = expiryTimer(claims, () => end('expired'))
  const shutdown = (): void => end('shutdown')
  open.add(shutdown)
  raw.on('close', () => {
    clearInterval(keepalive)
    stopWatch()
    stopExpiry()
    open.delete(shutdown)
  })
  write('hello', { sub: claims.sub, sid: claims.sid, exp: claims.exp })
}

/** GET /ws and GET /events: connections that live as long as their access token does, and end when it is revoked. */
export const liveRoutes: FastifyPluginAsync<RouteDeps> = async (app) => {
  await app.register(fastifyWebsocket)
  // Open event streams would hold the server's close until they end on their own.
  const openStreams = new Set<() => void>()
  app.addHook('preClose', async () => { for (const end of [...openStreams]) end() })

  app.get('/ws', {
    websocket: true,
    onRequest: accessOnly(app),
    schema: {
      tags: ['live'],
      summary: `A WebSocket, closed with ${CLOSE_REVOKED} when its access token is revoked, ${CLOSE_EXPIRED} when it expires`,
      security: bearerAuth
    }
  }, (socket, request) => {
    const stop = request.onRevoked(() => { socket.close(CLOSE_REVOKED, 'token revoked') })
    serveSocket(app, socket, accessClaims(request), stop)
  })

  app.get('/events', {
    onRequest: accessOnly(app),
    schema: {
      tags: ['live'],
      summary: 'Server-sent events, ended with `event: revoked` when the access token is revoked',
      security: bearerAuth,
      response: {
        200: Type.String({ description: 'A text/event-stream: `hello`, then `revoked` or `expired` as it ends' }),
        ...authenticated
      }
    }
  }, async (request, reply) => {
    reply.hijack()
    serveEvents(reply, accessClaims(request), openStreams, (listener) => request.onRevoked(listener))
  })
}
