import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Cluster, Redis } from 'ioredis'

/** A real redis-server child process on a free loopback port. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** Stops it (SIGTERM, waits for exit). */
  stop (): Promise<void>
  /** Starts it again on the same port and directory (after stop). */
  start (): Promise<void>
  /** SIGKILL, waits for exit: a crash (no shutdown, no final write, no wait for replicas). */
  kill (): Promise<void>
  /** SIGSTOP / SIGCONT: alive but silent. */
  pause (): void
  resume (): void
}

/** Listens on `port` (0: any the kernel picks) and closes again: the port it got, or undefined when it was taken. */
async function probePort (port: number): Promise<number | undefined> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.on('error', () => resolve(undefined))
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      const got = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(got))
    })
  })
}

/**
 * A port free at this moment. A Cluster node also listens on its port + 10000 (the cluster bus), which must be a
 * valid port and free as well: `clusterBus` asks for both (the kernel's picks run up to 60999, whose bus port would not
 * exist). Another process may still take the port before it is used: startRedis retries on "Address already in use".
 */
export async function freePort ({ clusterBus = false } = {}): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await probePort(0)
    if (port === undefined) throw new Error('no free port on 127.0.0.1')
    if (!clusterBus || (port + 10_000 <= 65_535 && await probePort(port + 10_000) !== undefined)) return port
    if (attempt === 200) throw new Error('no free port whose cluster bus port (+10000) is free too')
  }
}

function waitForReady (child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`redis-server on ${port} did not start:\n${output}`)), 10_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        // Keep draining its output so a chatty server never blocks on a full pipe.
        child.stdout?.resume()
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server on ${port} exited with ${code}:\n${output}`))
    })
  })
}

/**
 * Starts `redis-server` (from PATH) with no persistence unless `args` asks for it, in a fresh temporary directory.
 * The caller stops it; startRedisFor(t) does so in the test's teardown.
 */
export async function startRedis (args: string[] = []): Promise<RedisServer> {
  const clusterBus = args.includes('--cluster-enabled')
  let port = await freePort({ clusterBus })
  const dir = mkdtempSync(join(tmpdir(), 'jwt-revoke-redis-'))
  let child: ChildProcess | undefined

  async function start (): Promise<void> {
    child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args
    ], { stdio: ['ignore', 'pipe', 'inherit'] })
    await waitForReady(child, port)
  }

  async function end (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve())
      running.kill('SIGCONT')
      running.kill(signal)
    })
  }
  const stop = (): Promise<void> => end('SIGTERM')

  // A port taken between freePort and the bind (by a test running beside this one): another port, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await start()
      break
    } catch (error) {
      if (attempt === 5 || !String(error).includes('Address already in use')) throw error
      port = await freePort({ clusterBus })
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    start,
    kill: () => end('SIGKILL'),
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT')
  }
}

/**
 * Every ioredis client a test makes goes through this: it gets an 'error' listener. Tests stop, pause and restart
 * servers on purpose, and a client without a listener prints each failed reconnect as "[ioredis] Unhandled error
 * event" with a stack trace, which reads like a failure in a passing run. The tests judge errors by the replies and
 * logs they assert on, never by this output.
 */
export function listened<T extends Redis | Cluster> (client: T): T {
  client.on('error', () => {})
  return client
}

interface Teardown { teardown (fn: () => unknown): void }

/** startRedis, stopped (and its directory removed) when the test ends. */
export async function startRedisFor (t: Teardown, args: string[] = []): Promise<RedisServer> {
  const server = await startRedis(args)
  t.teardown(async () => {
    await server.stop()
    rmSync(server.dir, { recursive: true, force: true })
  })
  return server
}
