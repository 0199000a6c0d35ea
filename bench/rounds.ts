import type { Redis } from 'ioredis'
import { measure, type Load, type Sample } from './measure.js'
import type { Fleet } from './server/fleet.js'
import { median, roundOrder } from './stats.js'
import { ASYNC_CONTROL, BARE, SERVERS, type ServerId } from './variants.js'

/** One round: every running server measured once. */
export type Round = Map<ServerId, Sample>

export async function runRounds (fleet: Fleet, redis: Redis, load: Load, rounds: number, log: (line: string) => void): Promise<Round[]> {
  const results: Round[] = []
  const inTableOrder = SERVERS.flatMap(({ id }) => fleet.running.get(id) ?? [])
  for (let r = 0; r < rounds; r++) {
    const round: Round = new Map()
    for (const server of roundOrder(inTableOrder, r)) {
      const sample = await measure(server, redis, load)
      log(`round ${r + 1}/${rounds} ${server.id}: ${Math.round(sample.rps)} req/s, ${sample.serverCpu.toFixed(1)} us CPU/req`)
      round.set(server.id, sample)
    }
    results.push(round)
  }
  return results
}

/** A server's figure over a baseline's, both from the same round. */
export interface Ratios {
  rps: number
  serverCpu: number
}

export interface ServerRow {
  id: ServerId
  label: string
  /** Set when the server has no figures, and why. */
  unavailable?: string
  /** Medians over the rounds (failed: the sum). */
  median?: Sample
  /** Medians over the rounds of the same-round ratios. */
  vsBare?: Ratios
  vsAsync?: Ratios
}

function medianSample (samples: Sample[]): Sample {
  const of = (field: keyof Sample): number => median(samples.map((sample) => sample[field]))
  // Failures are summed, not a median: one round of 503s is worth seeing.
  const failed = samples.reduce((sum, sample) => sum + sample.failed, 0)
  return { rps: of('rps'), p50: of('p50'), p99: of('p99'), serverCpu: of('serverCpu'), redisCpu: of('redisCpu'), failed }
}

function ratios (rounds: Round[], id: ServerId, base: ServerId): Ratios | undefined {
  const pairs = rounds.flatMap((round) => {
    const sample = round.get(id)
    const baseline = round.get(base)
    return sample === undefined || baseline === undefined ? [] : [{ sample, baseline }]
  })
  if (pairs.length === 0) return undefined
  return {
    rps: median(pairs.map(({ sample, baseline }) => sample.rps / baseline.rps)),
    serverCpu: median(pairs.map(({ sample, baseline }) => sample.serverCpu / baseline.serverCpu))
  }
}

export function summarize (ids: readonly ServerId[], rounds: Round[], unavailable: Map<ServerId, string>): ServerRow[] {
  return SERVERS.filter((server) => ids.includes(server.id)).map(({ id, label }) => {
    const reason = unavailable.get(id)
    if (reason !== undefined) return { id, label, unavailable: reason }
    const samples = rounds.flatMap((round) => round.get(id) ?? [])
    return { id, label, median: medianSample(samples), vsBare: ratios(rounds, id, BARE), vsAsync: ratios(rounds, id, ASYNC_CONTROL) }
  })
}
