import { runConcurrently } from '../pool.js'
import { storeKind, type ServerId } from '../variants.js'
import { startServer, type ServerProcess, type SpawnOptions } from './spawn.js'

/** The servers of a run, all started before the first round and idle while another one is measured. */
export interface Fleet {
  running: Map<ServerId, ServerProcess>
  /** Why a server has no figures: the plugin refused its options, or (mirror) it failed its check. */
  unavailable: Map<ServerId, string>
  /** Second instances of some variants, for measurements that need two (never in the table). */
  spares: ServerProcess[]
  close (): Promise<void>
}

export interface CheckTokens {
  live: string
  revoked: string
}

/** The status of GET url with a bearer token (the body is read so the connection is reused). */
export async function statusOf (url: string, token: string): Promise<number> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  await response.arrayBuffer()
  return response.status
}

/** Figures only count for a server that does its job: a live token passes, a revoked one is refused by the plugin. */
async function check (server: ServerProcess, tokens: CheckTokens): Promise<void> {
  const live = await statusOf(server.url, tokens.live)
  if (live !== 200) throw new Error(`${server.id} answered ${live} to a live token`)
  const expected = storeKind(server.id) === undefined ? 200 : 401
  const revoked = await statusOf(server.url, tokens.revoked)
  if (revoked !== expected) throw new Error(`${server.id} answered ${revoked} to a revoked token, not ${expected}`)
}

/** Why a started server cannot be measured, or undefined when it can. */
async function problemOf (server: ServerProcess, tokens: CheckTokens): Promise<string | undefined> {
  try {
    await check(server, tokens)
    return undefined
  } catch (error) {
    // The mirror is being built while this benchmark is: a half-built one is reported, not measured.
    if (server.id !== 'mirror') throw error
    return error instanceof Error ? error.message : String(error)
  }
}

/**
 * Starts the servers all at once: a start is mostly CPU (loading modules), so on two idle cores this is as quick as two
 * at a time, and on cores shared with other work it gets a larger share of them. `spares` are started alongside.
 */
export async function startFleet (ids: readonly ServerId[], options: SpawnOptions, tokens: CheckTokens, spares: readonly ServerId[]): Promise<Fleet> {
  const processes: ServerProcess[] = []
  const fleet: Fleet = {
    running: new Map(),
    unavailable: new Map(),
    spares: [],
    close: async () => { await Promise.all(processes.map((server) => server.close())) }
  }
  const all = [...ids, ...spares]
  try {
    await runConcurrently(all.length, all.length, async (i) => {
      const id = all[i] as ServerId
      const isSpare = i >= ids.length
      const started = await startServer(id, options)
      if (started.available) processes.push(started.server)
      const problem = started.available ? await problemOf(started.server, tokens) : started.reason
      if (problem !== undefined) {
        if (!isSpare) fleet.unavailable.set(id, problem)
      } else if (started.available) {
        if (isSpare) fleet.spares.push(started.server)
        else fleet.running.set(id, started.server)
      }
    })
  } catch (error) {
    await fleet.close()
    throw error
  }
  return fleet
}
