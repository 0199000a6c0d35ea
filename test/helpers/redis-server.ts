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

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
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
  const port = await freePort()
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

  await start()
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
