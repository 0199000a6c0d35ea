// The mirror's scale benchmark is not part of `npm test` (minutes at 10 million entries); this smoke run of the three
// quick ones is, so they cannot rot. Tiny sizes, no speed asserted: only that every figure is printed and positive.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { childEnv } from './helpers/child-env.js'

// Three child processes, each filling and reading a redis-server: seconds alone, more on a loaded CI machine.
t.setTimeout(120_000)

const repo = fileURLToPath(new URL('..', import.meta.url))
const run = async (script: string, millions: string): Promise<string> =>
  (await promisify(execFile)(process.execPath, ['--import', 'tsx', script, millions], { cwd: repo, env: childEnv() })).stdout

t.test('bench/table-cost.ts: both lookups against an empty table, and making room', async (t) => {
  const lines = (await run('bench/table-cost.ts', '0.02')).trim().split('\n')
  t.equal(lines.length, 3, lines.join('\n'))
  t.match(lines[0], /^token \(absent\) lookup: \d+ ns with 0\.02 M entries, \d+ ns empty \(\+-?\d+ ns\)$/)
  t.match(lines[1], /^cutoff \(half present\) lookup: \d+ ns with 0\.02 M entries, \d+ ns empty \(\+-?\d+ ns\)$/)
  t.match(lines[2], /^growth: at \d+\.\d+ M entries an add asked for room \(FST_JWT_REVOKE_MIRROR_GROWING\); the next sync's reserve emptied the \d+ MB table into one of \d+ MB in [\d.]+ ms; RSS \d+ MB before the adds, \d+ MB after$/)
})

t.test('bench/scan-floor.ts: a bare SCAN, a pipelined one and the mirror\'s load, each read twice, every key found', async (t) => {
  const lines = (await run('bench/scan-floor.ts', '0.02')).trim().split('\n')
  t.equal(lines.length, 6, lines.join('\n'))
  for (const line of lines) {
    const match = /^(.+): 20000 keys; per million: ([\d.]+) s of wall time, ([\d.]+) s of Redis CPU, ([\d.]+) s of this process's CPU; longest event-loop stall ([\d.]+) ms \(own work ([\d.]+) ms\)$/.exec(line)
    if (match === null) {
      t.fail(`not a figure line: ${line}`)
      continue
    }
    t.ok(Number(match[2]) > 0, `${match[1]}: wall time ${match[2]} s per million`)
    t.ok(Number(match[6]) <= Number(match[5]), 'its own stalls are among all its stalls')
  }
})

t.test('bench/mirror-growth.ts: a mirror that fills up while in use resyncs into a larger table holding every entry', async (t) => {
  // 100 000 entries: above growInPlaceUpTo's default (65 536), so the table grows by a resync, not in place.
  const lines = (await run('bench/mirror-growth.ts', '0.1')).trim().split('\n')
  t.equal(lines.length, 3, lines.join('\n'))
  t.match(lines[0], /^synced on 100000 entries in \d+ ms; RSS \d+ MB$/)
  t.match(lines[1], /^out of sync after \d+ more revocations \(\d+ ms\)$/)
  t.match(lines[2], /^resynced in \d+ ms holding \d+ entries \(every one\); peak RSS \d+ MB, now \d+ MB; longest event-loop stall [\d.]+ ms \(own work [\d.]+ ms\)$/)
})
