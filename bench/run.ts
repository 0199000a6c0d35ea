// npm run bench -- [options]: see USAGE in options.ts, and RESULTS.md for the last figures.
import { runBenchmark } from './bench.js'
import { parseOptions, USAGE, type BenchOptions } from './options.js'
import { formatResult } from './table.js'

let options: BenchOptions
try {
  options = parseOptions(process.argv.slice(2))
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`)
  process.exit(2)
}
if (options.help) {
  console.log(USAGE)
  process.exit(0)
}
const started = Date.now()
// Progress goes to stderr, so that --json leaves stdout to the JSON alone.
const result = await runBenchmark(options, (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${line}`))
console.log(options.json ? JSON.stringify(result, null, 2) : formatResult(result))
