// The mirror's table alone, without Redis: what a lookup of an entry it lacks costs with N entries against an empty
// table (the token table and the cutoff table, on the same entry strings), and what making room costs once the table
// is full. Usage: npx tsx bench/table-cost.ts [millions, default 10]
import { cutoffEntry, jtiEntry } from '../lib/keys.js'
import { MirrorEntries } from '../lib/stores/mirror-entries.js'
import { benchKey } from './mirror-scale-keys.js'

const size = Math.round(Number(process.argv[2] ?? 10) * 1e6)
const expiresAt = Date.now() + 3600_000
// The default growInPlaceUpTo, or less for a tiny run, so that its table too asks for room rather than grow in place.
const full = new MirrorEntries({ maxEntries: 2 * size, growInPlaceUpTo: Math.min(65_536, size / 2) })
full.reserve(size)
// Filled the way a sync loads it: its cutoff table, sized by no key count, grows as it goes.
full.beginSync()
for (let i = 1; i <= size; i++) {
  if (i % 100 === 0) full.addCutoff(cutoffEntry(`cut-${i}`), 1000, expiresAt)
  else {
    const { jti, sub } = benchKey(i)
    full.addToken(jtiEntry(jti, sub), expiresAt)
  }
}
full.endSync()
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
// Growth: an add that finds the table 80 % full asks for room (the mirror goes out of sync and resyncs); the sync's
// reserve then empties it into a table half as large again, which the load refills. Timed here: that reserve.
const rssBefore = process.memoryUsage().rss
let added = 0
let asked = ''
try {
  for (; added <= size; added++) full.addToken(jtiEntry(`grow-${added}`, 'grower'), expiresAt)
} catch (error) {
  asked = (error as { code?: string }).code ?? String(error)
}
const held = full.size
const bytes = full.bytes
const started = performance.now()
full.reserve(0, true)
const ms = performance.now() - started
console.log(`growth: at ${(held / 1e6).toFixed(2)} M entries an add asked for room (${asked}); the next sync's reserve emptied the ${(bytes / 1e6).toFixed(0)} MB table into one of ${(full.bytes / 1e6).toFixed(0)} MB in ${ms.toFixed(1)} ms; RSS ${(rssBefore / 1e6).toFixed(0)} MB before the adds, ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB after`)
