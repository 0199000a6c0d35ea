// The mirror's table alone, without Redis: what a lookup of an entry it lacks costs with N entries against an empty
// table (the token table and the cutoff table, on the same entry strings), and what one growth costs (the rehash an
// add past 80 % full makes, holding both tables meanwhile). Usage: npx tsx bench/table-cost.ts [millions, default 10]
import { cutoffEntry, jtiEntry } from '../lib/keys.js'
import { MirrorEntries } from '../lib/stores/mirror-entries.js'
import { benchKey } from './mirror-scale-keys.js'

const size = Math.round(Number(process.argv[2] ?? 10) * 1e6)
const expiresAt = Date.now() + 3600_000
const full = new MirrorEntries({ maxEntries: 2 * size })
full.reserve(size)
for (let i = 1; i <= size; i++) {
  if (i % 100 === 0) full.addCutoff(cutoffEntry(`cut-${i}`), 1000, expiresAt)
  else {
    const { jti, sub } = benchKey(i)
    full.addToken(jtiEntry(jti, sub), expiresAt)
  }
}
const empty = new MirrorEntries()
// Entries nobody revoked, built beforehand: only the lookups are timed. Half of the subjects hold a cutoff.
const count = 200_000
const tokens = Array.from({ length: count }, (_, i) => jtiEntry(`valid-${i}-${Math.random().toString(36).slice(2)}`, `user-${i}`))
const cutoffs = Array.from({ length: count }, (_, i) => cutoffEntry(i % 2 === 0 ? `user-${i}` : `cut-${(i % (size / 100)) * 100 + 100}`))

function nsPerLookup (entries: MirrorEntries, lookup: (entries: MirrorEntries, i: number) => unknown): number {
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) lookup(entries, i)
  return Number(process.hrtime.bigint() - started) / count
}
const lookups = {
  'token (absent)': (entries: MirrorEntries, i: number) => entries.hasToken(tokens[i] as string),
  'cutoff (half present)': (entries: MirrorEntries, i: number) => entries.cutoffOf(cutoffs[i] as string)
}
for (const [name, lookup] of Object.entries(lookups)) {
  const times = { empty: [] as number[], full: [] as number[] }
  for (let round = 0; round < 6; round++) {
    if (round % 2 === 0) times.empty.push(nsPerLookup(empty, lookup))
    times.full.push(nsPerLookup(full, lookup))
    if (round % 2 === 1) times.empty.push(nsPerLookup(empty, lookup))
  }
  const best = { empty: Math.min(...times.empty), full: Math.min(...times.full) }
  console.log(`${name} lookup: ${best.full.toFixed(0)} ns with ${size / 1e6} M entries, ${best.empty.toFixed(0)} ns empty (+${(best.full - best.empty).toFixed(0)} ns)`)
}
// One growth: add entries until an add finds the table 80 % full; that add rehashes every entry into a table half as large again.
const rssBefore = process.memoryUsage().rss
let slowest = 0
let peakRss = rssBefore
for (let i = 1; slowest < 50 && i <= size; i++) {
  const started = performance.now()
  full.addToken(jtiEntry(`grow-${i}`, 'grower'), expiresAt)
  const ms = performance.now() - started
  if (ms > slowest) {
    slowest = ms
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }
}
console.log(`one growth at ${(full.size / 1e6).toFixed(2)} M entries: the add that rehashed took ${slowest.toFixed(0)} ms; RSS ${(rssBefore / 1e6).toFixed(0)} MB before, ${(peakRss / 1e6).toFixed(0)} MB after`)
