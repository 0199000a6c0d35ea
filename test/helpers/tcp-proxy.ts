import { createServer, connect, type Socket } from 'node:net'

/** A loopback TCP proxy in front of a server, to cut one client off (or silence it) while the others carry on. */
export interface TcpProxy {
  readonly port: number
  /** Closes every open connection and refuses new ones. */
  cut (): void
  /** Keeps connections open but forwards nothing: a silent network partition. */
  blackhole (): void
  /**
   * The connections open now go silent for good (never closed, nothing forwarded either way), while new ones are
   * forwarded as usual: a host that vanished without a reset, a NAT or load balancer that forgot the flow.
   */
  silence (): void
  /** Back to normal for new connections (a blackholed connection is closed so the client reconnects). */
  restore (): void
  close (): Promise<void>
}

export async function startTcpProxy (targetPort: number): Promise<TcpProxy> {
  let mode: 'open' | 'cut' | 'blackhole' = 'open'
  const sockets = new Set<Socket>()
  const silenced = new WeakSet<Socket>()
  const server = createServer((client) => {
    if (mode !== 'open') {
      client.destroy()
      return
    }
    const upstream = connect(targetPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {})
    }
    const forwards = (): boolean => mode === 'open' && !silenced.has(client)
    client.on('data', (chunk) => { if (forwards()) upstream.write(chunk) })
    upstream.on('data', (chunk) => { if (forwards()) client.write(chunk) })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const destroyAll = (): void => { for (const socket of sockets) socket.destroy() }
  return {
    port,
    cut: () => { mode = 'cut'; destroyAll() },
    blackhole: () => { mode = 'blackhole' },
    silence: () => { for (const socket of sockets) silenced.add(socket) },
    restore: () => {
      if (mode === 'blackhole') destroyAll()
      mode = 'open'
    },
    close: async () => {
      destroyAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
