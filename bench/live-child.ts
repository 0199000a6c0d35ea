// Instance B of bench/live-figures.ts: a Fastify app with the plugin on the given Redis and mode, in a process of its
// own. The parent sends payloads to watch; for each, B answers once the watch is checked ('watched') and when its
// listener fires ('fired', with the wall-clock instant in ms, sub-millisecond precision).
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import jwtRevoke from '../index.js'

const [redisUrl, mode] = process.argv.slice(2) as [string, 'lookup' | 'mirror']
const app = Fastify()
await app.register(fastifyJwt, { secret: 'bench-live-secret-that-is-long-enough' })
await app.register(jwtRevoke, { store: 'redis', redis: redisUrl, mode })
await app.ready()

const wallNow = (): number => performance.timeOrigin + performance.now()
const send = (message: object): void => { process.send?.(message) }

async function settled (): Promise<void> {
  while (!(app.jwtRevoke.watchStatus().live && app.jwtRevoke.watchStatus().pending === 0)) {
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

process.on('message', (message: { watch?: Record<string, unknown>, close?: true }) => {
  if (message.close === true) {
    app.close().then(() => process.exit(0), () => process.exit(1))
    return
  }
  const payload = message.watch as Record<string, unknown>
  app.jwtRevoke.watch(payload, () => send({ fired: payload.jti, at: wallNow() }))
  settled().then(() => send({ watched: payload.jti }), () => {})
})
send({ ready: true })
