import type { ServerRow } from './rounds.js'
import { BARE, type ServerId } from './variants.js'

/** One target of issue 5, judged on this run's figures. */
export interface Verdict {
  target: string
  measured: string
  met: boolean | undefined
}

function row (rows: ServerRow[], id: ServerId): ServerRow | undefined {
  return rows.find((candidate) => candidate.id === id && candidate.median !== undefined)
}

function judge (target: string, measured: number | undefined, limit: (value: number) => boolean, show: (value: number) => string): Verdict {
  if (measured === undefined || Number.isNaN(measured)) return { target, measured: 'not measured', met: undefined }
  return { target, measured: show(measured), met: limit(measured) }
}

const times = (value: number): string => `${value.toFixed(2)}x`
const micros = (value: number): string => `${value.toFixed(2)} us`
const millis = (value: number): string => `${value.toFixed(2)} ms`

export function verdicts (rows: ServerRow[]): Verdict[] {
  const bare = row(rows, BARE)
  const pipelined = row(rows, 'redis-pipelined')
  const p99Over = (id: ServerId): number | undefined => {
    const server = row(rows, id)
    return server?.median === undefined || bare?.median === undefined ? undefined : server.median.p99 - bare.median.p99
  }
  return [
    judge('(5) server CPU/req <= bare x 1.10', pipelined?.vsBare?.serverCpu, (v) => v <= 1.1, times),
    judge('(5) Redis CPU/req <= 3 us', pipelined?.median?.redisCpu, (v) => v <= 3, micros),
    judge('(5) req/s >= 0.85 x async control', pipelined?.vsAsync?.rps, (v) => v >= 0.85, times),
    judge('(3) memory store server CPU/req <= bare', row(rows, 'memory')?.vsBare?.serverCpu, (v) => v <= 1, times),
    judge('(6) mirror server CPU/req <= bare', row(rows, 'mirror')?.vsBare?.serverCpu, (v) => v <= 1, times),
    judge('(4) p99 <= bare p99 + 1 ms', p99Over('redis'), (v) => v <= 1, millis),
    judge('(5) p99 <= bare p99 + 1 ms', p99Over('redis-pipelined'), (v) => v <= 1, millis)
  ]
}
