import t from 'tap'
import { cutoffEntry, jtiEntry } from '../lib/keys.js'
import { Fingerprint } from '../lib/stores/fingerprint.js'
import { FlatTable } from '../lib/stores/flat-table.js'
import { MirrorEntries } from '../lib/stores/mirror-entries.js'

const LIMIT = 1e9
/** The lowest fingerprint low half whose home is `slot` in a table of 1024 slots. */
const homeOf = (slot: number): number => Math.ceil(slot * 2 ** 32 / 1024)

t.test('flat table: entries are found, merged, expired and deleted without breaking a run', async (t) => {
  const table = new FlatTable()
  t.equal(table.capacity, 1024)
  // Fingerprints with the same low half share a home slot: one long run to delete from the middle of.
  for (let high = 1; high <= 20; high++) t.equal(table.put(homeOf(5), high, 100 + high, 1, 0, 10, LIMIT), true)
  // A run that wraps from the last slot to the first, and an entry whose home is the first slot after it.
  for (let high = 1; high <= 3; high++) table.put(2 ** 32 - 1, high, 200, 1, 0, 10, LIMIT)
  table.put(0, 9, 200, 1, 0, 10, LIMIT)
  t.equal(table.size, 24)
  t.not(table.find(homeOf(5), 20, 10), -1)
  t.equal(table.find(homeOf(5), 21, 10), -1, 'an absent fingerprint')
  t.equal(table.find(homeOf(5), 3, 103), -1, 'an expired entry is absent')
  t.equal(table.sweep(0, 1024, 110, -1), 10, 'a sweep drops the ten expired entries')
  for (let high = 11; high <= 20; high++) t.not(table.find(homeOf(5), high, 110), -1, `entry ${high} still found after the deletions before it`)
  t.equal(table.sweep(1020, 1024, 205, -1), 3, 'the wrapped run: its three entries at the end')
  t.equal(table.sweep(0, 4, 205, -1), 1, 'and the one shifted back to the first slot is dropped too')
  t.equal(table.size, 10)
  t.equal(table.sweep(0, 1024, 110, 2), 10, 'entries of another generation are dropped when one is kept')

  table.put(7, 7, 50, 1, 0, 10, LIMIT)
  table.put(7, 7, 40, 2, 0, 10, LIMIT)
  t.equal(table.find(7, 7, 45), table.find(7, 7, 10), 'a shorter expiry never shortens a live entry')
  t.equal(table.sweep(0, 1024, 10, 2), 0, 'and the entry took the new generation')
  table.put(7, 7, 30, 1, 0, 60, LIMIT)
  t.not(table.find(7, 7, 25), -1, 'an expired entry is replaced, not merged')
  t.equal(table.find(7, 7, 30), -1)
  t.equal(table.put(8, 8, 50, 1, 0, 10, 1), false, 'a new entry beyond the limit is refused')
  t.equal(table.put(7, 7, 50, 1, 0, 10, 1), true, 'an entry already held is not new')
})

t.test('flat table: values keep the larger; growth keeps every live entry', async (t) => {
  const table = new FlatTable({ withValues: true })
  table.put(3, 3, 100, 1, 1700.5, 10, LIMIT)
  table.put(3, 3, 90, 1, 1600, 10, LIMIT)
  t.equal(table.value(table.find(3, 3, 10)), 1700.5, 'an older cutoff never replaces a later one')
  table.put(3, 3, 90, 1, 1800.25, 10, LIMIT)
  t.equal(table.value(table.find(3, 3, 95)), 1800.25, 'a later cutoff does, to the millisecond; the later expiry stays')
  table.put(4, 4, 5, 1, 1, 1, LIMIT)
  for (let i = 10; i < 5000; i++) table.put(i * 2654435761 >>> 0, i, 100, 1, i, 10, LIMIT)
  t.equal(table.capacity, 7776, 'grown by half each time it was 80 % full')
  t.equal(table.find(4, 4, 1), -1, 'an entry expired by the time of the growth is left behind')
  let missing = 0
  for (let i = 10; i < 5000; i++) if (table.value(table.find(i * 2654435761 >>> 0, i, 10)) !== i) missing++
  t.equal(missing, 0)
  table.put(3, 3, 5, 1, 1, 200, LIMIT)
  t.equal(table.value(table.find(3, 3, 1)), 1, 'an expired cutoff is replaced, not merged')
  const cutoffs = new FlatTable({ withValues: true })
  for (let high = 1; high <= 3; high++) cutoffs.put(9, high, high === 1 ? 300 : 900, 1, high, 200, LIMIT)
  t.equal(cutoffs.sweep(0, cutoffs.capacity, 400, -1), 1)
  t.equal(cutoffs.value(cutoffs.find(9, 3, 400)), 3, 'a value moves with its entry when a deletion shifts it back')

  const plain = new FlatTable()
  for (let high = 1; high <= 1000; high++) plain.put(11, high, 100, 1, 0, 1, LIMIT)
  t.equal(plain.capacity, 1536, 'a run of 1000 entries with one home slot survives the growth')
  t.not(plain.find(11, 1000, 1), -1)
  const reserved = new FlatTable({ entries: 10_000 })
  t.equal(reserved.capacity, 14_286, 'sized 70 % full')
  reserved.reserve(100, 0)
  t.equal(reserved.capacity, 14_286, 'reserve never shrinks')
  t.equal(reserved.bytes, 14_286 * 13, '13 bytes a slot')
})

t.test('flat table: commitMemory commits every page of a new table in slices, and changes nothing', async (t) => {
  const table = new FlatTable({ entries: 2_000_000, withValues: true })
  const fingerprint = (i: number): number => (i * 2654435761) >>> 0
  for (let i = 1; i <= 100; i++) table.put(fingerprint(i), i, 100, 1, i, 10, LIMIT)
  let turns = 0
  let counting = true
  const tick = (): void => { turns++; if (counting) setImmediate(tick) }
  setImmediate(tick)
  const rss = process.memoryUsage().rss
  await table.commitMemory(1)
  counting = false
  const grown = process.memoryUsage().rss - rss
  // Of its 60 MB, the 34 MB slot array is above glibc's largest mmap threshold: mapped fresh, committed only here. The
  // smaller arrays may come from memory calloc zeroed (so committed) already: half the table is the bound asserted.
  t.ok(grown > table.bytes / 2, `RSS grew ${(grown / 1e6).toFixed(1)} MB for a table of ${(table.bytes / 1e6).toFixed(1)} MB`)
  t.ok(turns > 5, `the event loop turned ${turns} times while it committed`)
  let wrong = 0
  for (let i = 1; i <= 100; i++) if (table.value(table.find(fingerprint(i), i, 10)) !== i) wrong++
  t.equal(wrong, 0, 'every entry and value is as it was')

  // A table that grows (a rehash into new arrays) between two slices: the commit follows the new arrays.
  const growing = new FlatTable()
  const committed = growing.commitMemory(0)
  for (let i = 1; i <= 3000; i++) growing.put(fingerprint(i), i, 100, 1, 0, 10, LIMIT)
  await committed
  t.equal(growing.capacity, 5184, 'it grew meanwhile')
  let missing = 0
  for (let i = 1; i <= 3000; i++) if (growing.find(fingerprint(i), i, 10) === -1) missing++
  t.equal(missing, 0, 'and holds every entry')
})

t.test('flat table: random puts, sweeps and growth agree with a plain map, runs crowded and wrapping', async (t) => {
  // A seeded generator: the same operations on every run.
  let seed = 12345
  const random = (below: number): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0
    return ((seed >>> 0) % below)
  }
  // Few homes, near the start and the end of the table: long runs that wrap round and push into each other.
  const lows = [0, 1, homeOf(3), homeOf(3) + 1, homeOf(40), 2 ** 32 - 2, 2 ** 32 - 1, homeOf(1000)]
  for (let i = 0; i < 24; i++) lows.push(random(2 ** 32))
  const table = new FlatTable({ withValues: true })
  const model = new Map<string, { low: number, high: number, expiry: number, generation: number, value: number }>()
  const present = (low: number, high: number): number => table.find(low, high, 0)
  let now = 100
  for (let step = 0; step < 8000; step++) {
    const low = lows[random(lows.length)] as number
    const high = random(100)
    const operation = random(10)
    if (operation < 7) {
      // First long-lived entries, enough to grow the table; then short-lived ones that sweeps drop.
      const expiry = now + random(step < 4000 ? 5000 : 60)
      const generation = 1 + random(3)
      const value = random(1000)
      const key = `${low}:${high}`
      const held = model.get(key)
      if (held === undefined && model.size + 1 > table.capacity * 0.8) {
        // Growth leaves expired entries behind.
        for (const [other, entry] of model) if (entry.expiry <= now) model.delete(other)
      }
      if (!table.put(low, high, expiry, generation, value, now, 1e9)) t.fail(`put refused at step ${step}`)
      if (held === undefined) model.set(key, { low, high, expiry, generation, value })
      else {
        const live = held.expiry > now
        model.set(key, { low, high, generation, expiry: live ? Math.max(held.expiry, expiry) : expiry, value: live ? Math.max(held.value, value) : value })
      }
    } else if (operation < 9) {
      const from = random(table.capacity)
      const keep = step < 4000 || random(2) === 0 ? -1 : 1 + random(3)
      const before = table.size
      const dropped = table.sweep(from, from + random(64), now, keep)
      let gone = 0
      for (const [key, entry] of model) {
        const droppable = entry.expiry <= now || (keep !== -1 && entry.generation !== keep)
        if (present(entry.low, entry.high) !== -1) continue
        if (!droppable) t.fail(`a kept entry ${key} was lost by a sweep at step ${step}`)
        model.delete(key)
        gone++
      }
      if (dropped !== gone || table.size !== before - dropped) t.fail(`sweep at step ${step}: dropped ${dropped}, gone ${gone}`)
    } else {
      now += random(5)
    }
    if (step % 500 === 0 || step === 7999) {
      let wrong = 0
      for (const entry of model.values()) {
        const slot = present(entry.low, entry.high)
        if (slot === -1 || table.value(slot) !== entry.value || (table.find(entry.low, entry.high, entry.expiry - 1) === -1) || table.find(entry.low, entry.high, entry.expiry) !== -1) wrong++
      }
      let phantoms = 0
      for (let high = 100; high < 150; high++) if (present(lows[high % lows.length] as number, high) !== -1) phantoms++
      if (wrong > 0 || phantoms > 0 || table.size !== model.size) t.fail(`step ${step}: ${wrong} wrong, ${phantoms} phantoms, size ${table.size} against ${model.size}`)
    }
  }
  t.equal(table.size, model.size, `${model.size} entries at the end, in ${table.capacity} slots`)
  t.ok(table.capacity > 1024, 'the table grew on the way')
})

t.test('a table too large to rehash in place asks for room instead of growing, and the next sync gives it', async (t) => {
  const now = 1_000_000
  const entries = new MirrorEntries({ maxEntries: 1_000_000, growInPlaceUpTo: 100, now: () => now })
  const expiresAt = now + 3600_000
  entries.reserve(2000)
  const token = (i: number): string => jtiEntry(`grow-${i}`, 'grower')
  let held = 0
  let error: unknown
  try {
    for (; held < 10_000; held++) entries.addToken(token(held), expiresAt)
  } catch (caught) {
    error = caught
  }
  t.match(error, { code: 'FST_JWT_REVOKE_MIRROR_GROWING', statusCode: 503 }, `the add after ${held} entries asks for room`)
  t.equal(held, Math.floor(Math.ceil(2000 / 0.7) * 0.8), 'at 80 % of a table sized 70 % full for 2000')
  t.doesNotThrow(() => { entries.addToken(token(0), expiresAt + 1000) }, 'an entry already held still merges')
  entries.addCutoff(cutoffEntry('x'), 1, expiresAt)
  t.throws(() => { entries.addToken(token(held), expiresAt) }, { code: 'FST_JWT_REVOKE_MIRROR_GROWING' }, 'a cutoff goes to its own table; a new token still asks for room')
  const bytes = entries.bytes

  // In sync (the copy in use): the room is made in place, keeping every entry, however long the rehash takes.
  entries.reserve(0, false)
  t.ok(entries.bytes > bytes * 1.3, 'grown by about half')
  let missing = 0
  for (let i = 0; i < held; i++) if (!entries.hasToken(token(i))) missing++
  t.equal(missing, 0, 'every entry kept')
  for (let i = held; i < held * 1.2; i++) entries.addToken(token(i), expiresAt)
  t.ok(entries.hasToken(token(held)), 'and it takes new ones')

  // Out of sync (the load about to refill it): emptied into new arrays, never rehashed.
  let more = Math.ceil(held * 1.2)
  try {
    for (; ; more++) entries.addToken(token(more), expiresAt)
  } catch {}
  const full = entries.bytes
  entries.reserve(0, true)
  t.equal(entries.size, 1, 'emptied (the one cutoff left: its table had room)')
  t.ok(entries.bytes > full * 1.3, 'into a table about half as large again')
  t.equal(entries.hasToken(token(0)), false)
  for (let i = 0; i < more; i++) entries.addToken(token(i), expiresAt)
  t.equal(entries.size, more + 1, 'the load refills it without asking for room again')

  // The cutoff table, whose size no key count tells, asks for room the same way.
  let cutoffs = 1
  try {
    for (; ; cutoffs++) entries.addCutoff(cutoffEntry(`cut-${cutoffs}`), 5, expiresAt)
  } catch (caught) {
    t.match(caught, { code: 'FST_JWT_REVOKE_MIRROR_GROWING' }, `after ${cutoffs} cutoffs`)
  }
  entries.reserve(more, true)
  t.equal(entries.size, more, 'its cutoffs emptied into a larger table, its tokens kept (that table had room)')
  for (let i = 0; i <= cutoffs; i++) entries.addCutoff(cutoffEntry(`cut-${i}`), 5, expiresAt)
  t.equal(entries.cutoffOf(cutoffEntry(`cut-${cutoffs}`)), 5)

  // While a sync loads, the copy is not in use: a full table grows in place rather than fail the load.
  entries.beginSync()
  let grown = 0
  for (; grown < 5000; grown++) entries.addCutoff(cutoffEntry(`loaded-${grown}`), 5, expiresAt)
  entries.endSync()
  t.equal(entries.cutoffOf(cutoffEntry('loaded-4999')), 5, 'a sync grows the cutoff table as it loads')
  t.throws(() => {
    for (let i = 0; ; i++) entries.addCutoff(cutoffEntry(`after-${i}`), 5, expiresAt)
  }, { code: 'FST_JWT_REVOKE_MIRROR_GROWING' }, 'and once in use it asks for room again')

  // Without an add that asked for room, a sync that fits keeps the table as it is.
  entries.reserve(more, true)
  const kept = entries.bytes
  entries.reserve(more, true)
  t.equal(entries.bytes, kept)
  t.equal(entries.size, more, 'the tokens, the cutoff table emptied into a larger one')
})

t.test('fingerprints: the same text, the same fingerprint; different texts, different ones', async (t) => {
  const print = new Fingerprint()
  const seen = new Set<string>()
  for (let i = 0; i < 100_000; i++) {
    print.of(jtiEntry(`jti-${i}`, `user-${i % 100}`))
    seen.add(`${print.low}:${print.high}`)
  }
  t.equal(seen.size, 100_000, 'no two of 100 000 entries collide')
  print.of('{a}:cutoff')
  const first = [print.low, print.high]
  print.of('{a}:cutoff')
  t.same([print.low, print.high], first)
  const other = new Fingerprint()
  other.of('{a}:cutoff')
  t.not(`${other.low}:${other.high}`, first.join(':'), 'seeded per instance')
})

t.test('mirror entries: never shorter, the later cutoff, the bound, the sweeps', async (t) => {
  let now = 1_000_000_000_000
  const entries = new MirrorEntries({ maxEntries: 3, now: () => now })
  const token = jtiEntry('j', 's')
  const cutoff = cutoffEntry('s')
  entries.addToken(token, now + 60_000)
  entries.addToken(token, now + 1000)
  now += 30_000
  t.equal(entries.hasToken(token), true, 'a later message with a shorter TTL does not shorten it')
  entries.addCutoff(cutoff, 1_000_000_000.5, now + 1000)
  entries.addCutoff(cutoff, 999_999_999, now + 60_000)
  t.equal(entries.cutoffOf(cutoff), 1_000_000_000.5, 'the later cutoff, with its milliseconds')
  t.equal(entries.cutoffOf(cutoffEntry('nobody')), undefined)
  now += 30_001
  t.equal(entries.hasToken(token), false, 'expired')
  t.equal(entries.cutoffOf(cutoff), 1_000_000_000.5, 'and the longer expiry of the two cutoffs')
  entries.addToken(jtiEntry('a', undefined), now + 1000)
  t.equal(entries.size, 3, 'the expired token is not swept yet')
  entries.addToken(jtiEntry('c', undefined), now + 1000)
  t.equal(entries.size, 3, 'at the bound, the expired one made room')
  t.throws(() => entries.addToken(jtiEntry('d', undefined), now + 1000), { code: 'FST_JWT_REVOKE_STORE_FULL' })
  t.throws(() => entries.addCutoff(cutoffEntry('other'), 1, now + 1000), { code: 'FST_JWT_REVOKE_STORE_FULL' }, 'one bound for both kinds')

  // A sync that loads only 'a': once it completes, what it did not see goes at the next sweeps.
  entries.beginSync()
  entries.addToken(jtiEntry('a', undefined), now + 1000)
  entries.endSync()
  t.equal(entries.sweepSlice(), 2, 'c and the cutoff, not loaded by the completed sync, are swept')
  t.equal(entries.hasToken(jtiEntry('a', undefined)), true)
  entries.beginSync()
  entries.addToken(jtiEntry('e', undefined), now + 1000)
  entries.addToken(jtiEntry('f', undefined), now + 1000)
  entries.addToken(jtiEntry('g', undefined), now + 1000)
  t.equal(entries.hasToken(jtiEntry('a', undefined)), false, 'full while a sync runs: what it had not loaded again made room')
  t.equal(entries.hasToken(jtiEntry('g', undefined)), true)
  entries.abortSync()
  now += 2000
  t.equal(entries.sweepSlice(), 3, 'expired entries are swept whatever their generation')
})

t.test('mirror entries: 1 M tokens take under 40 bytes each, and the sweep goes round in slices', async (t) => {
  const entries = new MirrorEntries({ maxEntries: 2_000_000 })
  entries.reserve(1_000_000)
  const expiresAt = Date.now() + 3600_000
  for (let i = 0; i < 1_000_000; i++) entries.addToken(jtiEntry(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `user-${i % 100_000}`), expiresAt)
  t.equal(entries.size, 1_000_000)
  t.ok(entries.bytes / entries.size < 40, `${(entries.bytes / entries.size).toFixed(1)} bytes per entry`)
  let slices = 0
  while (entries.sweepSlice() === 0 && slices < 200) slices++
  t.equal(slices, 200, 'nothing live is swept')
})
