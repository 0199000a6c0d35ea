// A server variant in its own process, so that its CPU time is measured apart from autocannon's and Redis's.
// Arguments: server id, Redis URL, the run's clock (Unix seconds). Talks to the parent over IPC (see messages.ts).
import type { AddressInfo } from 'node:net'
import { isServerId } from '../variants.js'
import { buildServer, type BenchServer } from './apps.js'
import type { ChildMessage, ParentMessage } from './messages.js'

function send (message: ChildMessage): void {
  process.send?.(message)
}

function describe (error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** The plugin's own refusal of an option it does not know (yet): the variant is missing, not broken. */
function isRejectedMode (error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown, message?: unknown }
  return code === 'FST_JWT_REVOKE_INVALID_OPTION' && typeof message === 'string' && message.includes('"mode"')
}

const [id = '', redisUrl = '', clock = ''] = process.argv.slice(2)
if (!isServerId(id)) throw new Error(`unknown server id ${JSON.stringify(id)}`)

/** Answers the parent's requests (see messages.ts) until it asks the server to close, or dies. */
function serve (server: BenchServer): void {
  // A plain exit (not a kill) so that --cpu-prof can write its profile.
  const close = (): void => { server.app.close().then(() => process.exit(0), () => process.exit(1)) }
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'close') {
      close()
      return
    }
    const { user, system } = process.cpuUsage()
    send({ type: 'usage', cpuMicros: user + system, served: server.served() })
  })
  // The parent died without asking: do not outlive it.
  process.on('disconnect', close)
  send({ type: 'ready', port: (server.app.server.address() as AddressInfo).port })
}

try {
  const server = await buildServer(id, redisUrl, Number(clock))
  await server.app.listen({ port: 0, host: '127.0.0.1' })
  serve(server)
} catch (error) {
  const message: ChildMessage = isRejectedMode(error) ? { type: 'unavailable', reason: describe(error) } : { type: 'failed', error: describe(error) }
  // Exits once the message is out: an exit right after send() can lose it.
  process.send?.(message, undefined, {}, () => process.exit(1))
}
