// The benchmark is not part of `npm test`; this smoke run of it is, so it cannot rot. Tiny settings, no speed asserted.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import type { BenchResult } from '../bench/bench.js'
import { childEnv } from './helpers/child-env.js'
import { formatResult } from '../bench/table.js'
import { SERVERS, storeKind } from '../bench/variants.js'

// About 30 CPU-seconds, most of it eight server processes starting: 20-25 s on two cores, 50 s when other work shares
// them; the timeout leaves room for that.
t.setTimeout(90_000)

const repo = fileURLToPath(new URL('..', import.meta.url))
const tiny = ['--json', '--duration', '0.3', '--rounds', '1', '--connections', '2', '--revocations', '100', '--propagations', '10', '--entries', '500']

// Without tap's coverage: instrumenting eight child processes would double the run's time, and the benchmark is not
// what coverage is measured on.
const env = childEnv()
const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...tiny], { cwd: repo, env })
const result = JSON.parse(stdout) as BenchResult

t.test('a row per server, in table order, each with figures above zero', async (t) => {
  t.same(result.servers.map((row) => row.id), SERVERS.map((server) => server.id))
  for (const row of result.servers) {
    const median = row.median
    if (median === undefined) {
      t.fail(`${row.id} has no figures: ${row.unavailable ?? ''}`)
      continue
    }
    for (const [name, value] of Object.entries(median)) {
      // Redis CPU is only ever above zero for a server that asks Redis; for the others it is Redis's idle ticks.
      // Failures (503s from a Redis that missed storeTimeout on a busy machine) are reported, not asserted.
      if (name === 'failed' || (name === 'redisCpu' && (storeKind(row.id) === undefined || row.id === 'memory' || row.id === 'mirror'))) {
        t.ok(value >= 0, `${row.id} ${name} = ${value}`)
      } else {
        t.ok(value > 0, `${row.id} ${name} = ${value}`)
      }
    }
    t.ok((row.vsBare?.rps ?? 0) > 0 && (row.vsAsync?.serverCpu ?? 0) > 0, `${row.id} has ratios`)
  }
})

t.test('revoke() throughput and Redis memory per entry', async (t) => {
  t.ok(result.revoke.length >= 2)
  for (const rate of result.revoke) t.ok(rate.sequential > 0 && rate.concurrent > 0, `${rate.store}: ${rate.sequential}, ${rate.concurrent}`)
  t.ok(result.memory.bytesPerEntry > 0)
  t.ok(result.memory.memoryUsage > 0)
})

t.test('mirror propagation is measured', async (t) => {
  t.equal(result.propagation?.samples, 20, 'two instances refuse each of 10 revocations')
  t.ok((result.propagation?.p50 ?? 0) > 0)
})

t.test('the printed table has a line per server', async (t) => {
  const table = formatResult(result)
  const lines = table.split('\n')
  for (const server of SERVERS) t.ok(lines.some((line) => line.startsWith(`| ${server.label} `)), server.label)
})
