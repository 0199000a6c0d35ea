import { parseArgs } from 'node:util'
import { isServerId, SERVERS, type ServerId } from './variants.js'

export interface BenchOptions {
  connections: number
  /** Measured seconds per server per round (each measurement is preceded by a short warm-up burst). */
  duration: number
  rounds: number
  /** A fixed request rate (req/s) instead of saturation: latency and CPU without queueing or batching effects. */
  rate: number | undefined
  json: boolean
  /** Revocations per revoke() throughput figure. */
  revocations: number
  /** Revocations timed from one mirror-mode instance to two others. */
  propagations: number
  /** Entries revoked for the Redis memory-per-entry figure. */
  entries: number
  servers: ServerId[]
  /** Write a V8 CPU profile of every server child into this directory. */
  profileDir: string | undefined
  /** Print USAGE and run nothing. */
  help: boolean
}

export const USAGE = `npm run bench -- [options]
  --connections N   autocannon connections (default 50)
  --duration S      measured seconds per server per round (default 3: about 2.5 minutes in all)
  --rounds N        rounds, the server order rotated and reversed between them (default 4)
  --rate N          offer N req/s in all instead of as many as each server answers (default: saturate)
  --revocations N   revocations per revoke() throughput figure (default 10000)
  --propagations N  mirror mode: revocations timed from instance A to B and C (default 200)
  --entries N       revocations for Redis memory per entry (default 100000)
  --servers a,b     only these servers (${SERVERS.map((server) => server.id).join(',')})
  --profile DIR     node --cpu-prof every server child into DIR
  --json            print the results as JSON instead of tables
  --help            print this`

function positive (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number, not ${JSON.stringify(value)}`)
  return number
}

function serverList (value: string | undefined): ServerId[] {
  if (value === undefined) return SERVERS.map((server) => server.id)
  return value.split(',').map((id) => {
    if (!isServerId(id)) throw new Error(`--servers: unknown server ${JSON.stringify(id)}\n${USAGE}`)
    return id
  })
}

export function parseOptions (args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      connections: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      rate: { type: 'string' },
      revocations: { type: 'string' },
      propagations: { type: 'string' },
      entries: { type: 'string' },
      servers: { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  return {
    connections: Math.round(positive('connections', values.connections, 50)),
    duration: positive('duration', values.duration, 3),
    rounds: Math.round(positive('rounds', values.rounds, 4)),
    rate: values.rate === undefined ? undefined : positive('rate', values.rate, 0),
    revocations: Math.round(positive('revocations', values.revocations, 10_000)),
    propagations: Math.round(positive('propagations', values.propagations, 200)),
    entries: Math.round(positive('entries', values.entries, 100_000)),
    servers: serverList(values.servers),
    profileDir: values.profile,
    json: values.json,
    help: values.help
  }
}
