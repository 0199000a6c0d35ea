import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { ServerId } from '../variants.js'
import type { ChildMessage, ParentMessage } from './messages.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

/** Cumulative CPU time and responses of a child; the parent subtracts two readings. */
export interface Usage {
  cpuMicros: number
  served: number
}

export interface ServerProcess {
  readonly id: ServerId
  readonly url: string
  usage (): Promise<Usage>
  close (): Promise<void>
}

export type Started = { available: true, server: ServerProcess } | { available: false, reason: string }

export interface SpawnOptions {
  /** child.ts compiled to JavaScript (see compile.ts). */
  childPath: string
  redisUrl: string
  /** The run's clock, so the child's memory store preloads the very entries the parent's tokens expect. */
  now: number
  /** Write a V8 CPU profile of the child here (node --cpu-prof). */
  profileDir?: string | undefined
}

function nextMessage (child: ChildProcess): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => {
      child.off('message', onMessage)
      reject(new Error(`server child exited with ${code} before answering`))
    }
    const onMessage = (message: ChildMessage): void => {
      child.off('exit', onExit)
      resolve(message)
    }
    child.once('message', onMessage)
    child.once('exit', onExit)
  })
}

let started = 0

/** Starts one variant in a child process and waits until it listens. */
export async function startServer (id: ServerId, options: SpawnOptions): Promise<Started> {
  // Numbered: the mirror runs twice (the second instance for propagation), and each profile must keep its own file.
  const name = `${id}-${++started}.cpuprofile`
  const profile = options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${name}`]
  const child = fork(options.childPath, [id, options.redisUrl, String(options.now)], {
    cwd: REPO,
    execArgv: profile,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const first = await nextMessage(child)
  if (first.type === 'unavailable') return { available: false, reason: first.reason }
  if (first.type !== 'ready') {
    child.kill()
    throw new Error(`server ${id} did not start: ${first.type === 'failed' ? first.error : first.type}`)
  }
  const exited = once(child, 'exit')
  return {
    available: true,
    server: {
      id,
      url: `http://127.0.0.1:${first.port}/me`,
      async usage () {
        const answer = nextMessage(child)
        child.send({ type: 'usage' } satisfies ParentMessage)
        const message = await answer
        if (message.type !== 'usage') throw new Error(`server ${id} answered ${message.type} to a usage request`)
        return { cpuMicros: message.cpuMicros, served: message.served }
      },
      async close () {
        if (child.exitCode !== null) return
        child.send({ type: 'close' } satisfies ParentMessage)
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
    }
  }
}
