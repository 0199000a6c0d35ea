/** An expiry of 0 marks an empty slot: every live entry expires after 1970. */
const EMPTY = 0
/** Past 80 % full, a lookup that misses walks long runs of full slots: the table grows by half. */
const MAX_LOAD = 0.8
/** A table sized for a known number of entries is 70 % full, with room to grow before it must. */
const SIZED_LOAD = 0.7
const MIN_CAPACITY = 1024
const TWO_TO_32 = 4294967296
/** A memory page on Linux/x64: one write in each commits it (larger pages only need fewer). */
const PAGE_BYTES = 4096

export interface FlatTableOptions {
  /** Keep a number beside each entry (a subject's cutoff). */
  withValues?: boolean
  /** Entries to make room for from the start. */
  entries?: number
}

function slotsFor (entries: number): number {
  return Math.max(MIN_CAPACITY, Math.ceil(entries / SIZED_LOAD))
}

/**
 * A set of 64-bit fingerprints, each with an expiry in whole seconds, a generation stamp and optionally a number, in
 * flat typed arrays: 13 bytes a slot (21 with a value), outside the JavaScript heap, so ten million entries are a few
 * hundred megabytes that the garbage collector never walks. Any number of slots (not a power of two: ten million
 * entries take 14.3 M slots, not 16.8 M): an entry's home slot is its fingerprint's low half scaled to the table.
 *
 * Robin Hood open addressing: an entry never sits further from its home than the entry after it, so every run is in
 * the order of its homes, and a lookup for a fingerprint the table lacks (nearly every check: tokens nobody revoked)
 * stops at the first entry whose home is past its own, about two slots on average at 70 % full, where plain linear
 * probing walks to the end of the run (six slots on average, twelve at 80 %). At ten million entries each lookup is a
 * cache miss into the table; this keeps it to one line. A deletion shifts the entries after it back (no tombstones,
 * so lookups never slow down with churn). It grows by rehashing into arrays half as large again. Every method takes
 * the time in seconds: an entry whose expiry is not after it is treated as absent.
 */
export class FlatTable {
  /** Per slot: fingerprint low, fingerprint high, expiry (seconds since the epoch, EMPTY for none). */
  #keys: Uint32Array
  #generations: Uint8Array
  #values: Float64Array | undefined
  #capacity: number
  /** Slots per fingerprint value: home = floor(low * scale). */
  #scale: number
  #size = 0

  constructor (options: FlatTableOptions = {}) {
    const capacity = slotsFor(options.entries ?? 0)
    this.#keys = new Uint32Array(capacity * 3)
    this.#generations = new Uint8Array(capacity)
    this.#values = options.withValues === true ? new Float64Array(capacity) : undefined
    this.#capacity = capacity
    this.#scale = capacity / TWO_TO_32
  }

  /** Entries held, expired ones not swept yet included. */
  get size (): number {
    return this.#size
  }

  get capacity (): number {
    return this.#capacity
  }

  /** Whether one more entry would make it grow (past 80 % full). */
  get crowded (): boolean {
    return this.#size + 1 > this.#capacity * MAX_LOAD
  }

  /** Whether it holds this fingerprint, live or expired. */
  holds (low: number, high: number): boolean {
    return this.#seek(low, high) !== -1
  }

  /** Bytes its arrays take. */
  get bytes (): number {
    return this.#keys.byteLength + this.#generations.byteLength + (this.#values?.byteLength ?? 0)
  }

  /** The slot of the live entry with this fingerprint, or -1. */
  find (low: number, high: number, now: number): number {
    const slot = this.#seek(low, high)
    return slot >= 0 && (this.#keys[slot * 3 + 2] as number) > now ? slot : -1
  }

  /** The number kept beside the entry in `slot` (a slot find() answered). */
  value (slot: number): number {
    return (this.#values as Float64Array)[slot] as number
  }

  /**
   * Adds the entry, or merges it into the live one with the same fingerprint: the later expiry and the larger value
   * win, so a revocation never gets shorter. Either way the entry gets `generation`. Answers false, changing nothing,
   * only when the entry is new and the table already holds `limit` entries.
   */
  put (low: number, high: number, expiry: number, generation: number, value: number, now: number, limit: number): boolean {
    const slot = this.#seek(low, high)
    if (slot >= 0) {
      const at = slot * 3 + 2
      const current = this.#keys[at] as number
      const live = current > now
      this.#keys[at] = live ? Math.max(current, expiry) : expiry
      if (this.#values !== undefined) this.#values[slot] = live ? Math.max(this.#values[slot] as number, value) : value
      this.#generations[slot] = generation
      return true
    }
    if (this.#size >= limit) return false
    if (this.#size + 1 > this.#capacity * MAX_LOAD) this.#rehash(Math.ceil(this.#capacity * 1.5), now)
    this.#insert(low, high, expiry, generation, value)
    return true
  }

  /** Whether `entries` would make it grow. */
  tooSmallFor (entries: number): boolean {
    return entries > this.#capacity * MAX_LOAD
  }

  /** Makes room for `entries` without growing again (called before a load whose size is known roughly). */
  reserve (entries: number, now: number): void {
    // Only a table too small for them grows: a rehash holds two tables at once and stalls the event loop, so a resync
    // whose count is a little above the last one's (writes made meanwhile) keeps the table it has.
    if (this.tooSmallFor(entries)) this.#rehash(slotsFor(entries), now)
  }

  /**
   * Commits the memory of its arrays, writing one byte of each page back as it is, `sliceMs` at a time with the event
   * loop free in between. The kernel maps a new array's page at the first write into it, a fault of about 11 µs here
   * (45 000 pages at ten million entries): a load that writes entries at random slots of a new table would take most
   * of them in its first steps, stalling the event loop tens of milliseconds at a time. The same values are written
   * back, so the table stays usable throughout; arrays a rehash replaces meanwhile are followed, not kept.
   */
  async commitMemory (sliceMs: number): Promise<void> {
    let index = 0
    let offset = 0
    for (;;) {
      const sliceEnd = performance.now() + sliceMs
      do {
        const array = [this.#keys, this.#generations, this.#values][index]
        if (array === undefined) return
        if (offset >= array.byteLength) {
          index++
          offset = 0
          continue
        }
        const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
        // A run of pages between two looks at the clock: one look per page would cost more than the writes.
        for (const end = Math.min(offset + 32 * PAGE_BYTES, bytes.length); offset < end; offset += PAGE_BYTES) {
          bytes[offset] = bytes[offset] as number
        }
      } while (performance.now() < sliceEnd)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Empties it into new arrays sized for `entries`: no rehash, and the old arrays can go before the load refills it. */
  rebuild (entries: number): void {
    const capacity = slotsFor(entries)
    this.#keys = new Uint32Array(capacity * 3)
    this.#generations = new Uint8Array(capacity)
    this.#values = this.#values === undefined ? undefined : new Float64Array(capacity)
    this.#capacity = capacity
    this.#scale = capacity / TWO_TO_32
    this.#size = 0
  }

  /**
   * Drops, in slots [from, to), every entry expired at `now` and, unless `keep` is -1, every entry whose generation is
   * not `keep`. Answers how many it dropped. Bounded by the range, so a caller sweeps a large table in small slices.
   */
  sweep (from: number, to: number, now: number, keep: number): number {
    const keys = this.#keys
    let dropped = 0
    for (let slot = from; slot < to && slot < this.#capacity; slot++) {
      // A deletion may shift the next entry of the run into this slot: look at it again.
      for (;;) {
        const expiry = keys[slot * 3 + 2] as number
        if (expiry === EMPTY) break
        if (expiry > now && (keep === -1 || this.#generations[slot] === keep)) break
        this.#delete(slot)
        dropped++
      }
    }
    return dropped
  }

  #home (low: number): number {
    // Exact enough: low * scale is below the capacity by at least capacity / 2^32, far more than its rounding error.
    return Math.floor(low * this.#scale)
  }

  /** How far the entry in `slot` (not empty) sits from its home. */
  #distance (slot: number): number {
    const home = this.#home(this.#keys[slot * 3] as number)
    return slot >= home ? slot - home : slot + this.#capacity - home
  }

  #next (slot: number): number {
    return slot + 1 === this.#capacity ? 0 : slot + 1
  }

  /** The slot holding this fingerprint, expired or not, or -1. */
  #seek (low: number, high: number): number {
    const keys = this.#keys
    let slot = this.#home(low)
    let distance = 0
    for (;;) {
      const at = slot * 3
      if (keys[at + 2] === EMPTY) return -1
      if (keys[at] === low && keys[at + 1] === high) return slot
      // Past an entry nearer its home than this fingerprint would be: the run holds no later entry of this home.
      if (this.#distance(slot) < distance) return -1
      slot = this.#next(slot)
      distance++
    }
  }

  /** Places a new entry: it takes the first slot whose entry sits nearer its home, which moves on the same way. */
  #insert (low: number, high: number, expiry: number, generation: number, value: number): void {
    const keys = this.#keys
    let slot = this.#home(low)
    for (let distance = 0; ; distance++) {
      const at = slot * 3
      if (keys[at + 2] === EMPTY) break
      const theirs = this.#distance(slot)
      if (theirs < distance) {
        const carriedLow = keys[at] as number
        const carriedHigh = keys[at + 1] as number
        const carriedExpiry = keys[at + 2] as number
        const carriedGeneration = this.#generations[slot] as number
        const carriedValue = this.#values === undefined ? 0 : this.#values[slot] as number
        this.#write(slot, low, high, expiry, generation, value)
        low = carriedLow
        high = carriedHigh
        expiry = carriedExpiry
        generation = carriedGeneration
        value = carriedValue
        distance = theirs
      }
      slot = this.#next(slot)
    }
    this.#write(slot, low, high, expiry, generation, value)
    this.#size++
  }

  #write (slot: number, low: number, high: number, expiry: number, generation: number, value: number): void {
    const at = slot * 3
    this.#keys[at] = low
    this.#keys[at + 1] = high
    this.#keys[at + 2] = expiry
    this.#generations[slot] = generation
    if (this.#values !== undefined) this.#values[slot] = value
  }

  /** Backward-shift deletion: the entries after the hole that are not at home move back one slot each. */
  #delete (hole: number): void {
    const keys = this.#keys
    for (;;) {
      const slot = this.#next(hole)
      const at = slot * 3
      if (keys[at + 2] === EMPTY || this.#distance(slot) === 0) break
      this.#write(hole, keys[at] as number, keys[at + 1] as number, keys[at + 2] as number, this.#generations[slot] as number,
        this.#values === undefined ? 0 : this.#values[slot] as number)
      hole = slot
    }
    keys[hole * 3 + 2] = EMPTY
    this.#size--
  }

  /** Copies the live entries into arrays of `capacity` slots; expired ones are left behind. */
  #rehash (capacity: number, now: number): void {
    const keys = this.#keys
    const generations = this.#generations
    const values = this.#values
    const slots = this.capacity
    this.#keys = new Uint32Array(capacity * 3)
    this.#generations = new Uint8Array(capacity)
    this.#values = values === undefined ? undefined : new Float64Array(capacity)
    this.#capacity = capacity
    this.#scale = capacity / TWO_TO_32
    this.#size = 0
    for (let old = 0; old < slots; old++) {
      const expiry = keys[old * 3 + 2] as number
      if (expiry <= now) continue
      this.#insert(keys[old * 3] as number, keys[old * 3 + 1] as number, expiry, generations[old] as number, values === undefined ? 0 : values[old] as number)
    }
  }
}
