import type { BenchResult } from './bench.js'
import type { Ratios, ServerRow } from './rounds.js'
import { verdicts } from './targets.js'

/** A Markdown table with padded columns: readable in a terminal and pasted as it is into RESULTS.md. */
export function markdownTable (header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => (cells[column] ?? '').length)))
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')
}

const fixed = (digits: number) => (value: number): string => value.toFixed(digits)
const ratio = (value: number | undefined): string => value === undefined ? '-' : `${value.toFixed(2)}x`

function ratioCells (ratios: Ratios | undefined): string[] {
  return [ratio(ratios?.rps), ratio(ratios?.serverCpu)]
}

function serverCells (row: ServerRow): string[] {
  if (row.median === undefined) return [row.label, 'not available (see below)', '', '', '', '', '', '', '', '', '']
  const { rps, p50, p99, failed, serverCpu, redisCpu } = row.median
  return [
    row.label, fixed(0)(rps), fixed(2)(p50), fixed(2)(p99), String(failed), fixed(1)(serverCpu), fixed(2)(redisCpu),
    ...ratioCells(row.vsBare), ...ratioCells(row.vsAsync)
  ]
}

function propagationLine ({ propagation }: BenchResult): string {
  if (propagation === undefined) return 'Mirror propagation: not measured (mirror mode not available)'
  const { samples, p50, p99, max } = propagation
  return `Mirror propagation, revoke() resolved on instance A to first 401 from B or C (${samples} samples, one loopback ` +
    `request of resolution): p50 ${fixed(2)(p50)} ms, p99 ${fixed(2)(p99)} ms, max ${fixed(2)(max)} ms`
}

export function formatResult (result: BenchResult): string {
  const { options, memory } = result
  return [
    `${options.connections} connections, ${options.rate === undefined ? 'saturating' : `${options.rate} req/s offered`}, ` +
      `${options.duration} s per server per round, ${options.rounds} round(s); medians over the rounds, ` +
      'ratios are medians of same-round ratios; CPU in microseconds per request',
    '',
    markdownTable(
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'server CPU us/req', 'Redis CPU us/req', 'req/s vs (2)', 'CPU vs (2)', 'req/s vs (2b)', 'CPU vs (2b)'],
      result.servers.map(serverCells)
    ),
    ...result.servers.flatMap(({ label, unavailable }) => unavailable === undefined ? [] : [`${label} not available: ${unavailable}`]),
    '',
    markdownTable(['target (issue 5)', 'measured', 'met'], verdicts(result.servers).map(({ target, measured, met }) =>
      [target, measured, met === undefined ? '-' : met ? 'yes' : 'NO'])),
    '',
    markdownTable(['revoke() on', 'sequential /s', '100 concurrent /s'], result.revoke.map(({ store, sequential, concurrent }) =>
      [store, fixed(0)(sequential), fixed(0)(concurrent)])),
    '',
    `Redis memory per revoked entry: ${fixed(1)(memory.bytesPerEntry)} bytes (INFO used_memory delta / ${memory.entries}); ` +
      `MEMORY USAGE of one key: ${memory.memoryUsage} bytes (${memory.key})`,
    propagationLine(result),
    `whole run: ${fixed(0)(result.seconds)} s`
  ].join('\n')
}
