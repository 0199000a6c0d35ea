/** An expiry of 0 marks an empty slot: every live entry expires after 1970. */
const EMPTY = 0
/** Past 80 % full, a lookup that misses walks long runs of full slots: the table grows by half. */
const MAX_LOAD = 0.8
/** A table sized for a known number of entries is 70 % full, with room to grow before it must. */
const SIZED_LOAD = 0.7
const MIN_CAPACITY = 1024
const TWO_TO_32 = 4294967296

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
 * hundred megabytes that the garbage collector never walks. Open addressing with linear probing; a deletion shifts the
 * entries after it back (no tombstones, so lookups never slow down with churn). Any number of slots (not a power of
 * two: ten million entries take 14.3 M slots, not 16.8 M): an entry's home slot is its fingerprint's low half scaled
 * to the table, so homes keep the order of fingerprints. It grows by rehashing into arrays half as large again. Every method takes the time in seconds: an entry whose expiry is not after it is treated as absent.
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

  /** Bytes its arrays take. */
  get bytes (): number {
    return this.#keys.byteLength + this.#generations.byteLength + (this.#values?.byteLength ?? 0)
  }

  /** The slot of the live entry with this fingerprint, or -1. */
  find (low: number, high: number, now: number): number {
    const keys = this.#keys
    let slot = this.#home(low)
    for (;;) {
      const at = slot * 3
      const expiry = keys[at + 2] as number
      if (expiry === EMPTY) return -1
      if (keys[at] === low && keys[at + 1] === high) return expiry > now ? slot : -1
      slot = this.#next(slot)
    }
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
    const keys = this.#keys
    let slot = this.#home(low)
    for (;;) {
      const at = slot * 3
      const current = keys[at + 2] as number
      if (current === EMPTY) break
      if (keys[at] === low && keys[at + 1] === high) {
        const live = current > now
        keys[at + 2] = live ? Math.max(current, expiry) : expiry
        if (this.#values !== undefined) this.#values[slot] = live ? Math.max(this.#values[slot] as number, value) : value
        this.#generations[slot] = generation
        return true
      }
      slot = this.#next(slot)
    }
    if (this.#size >= limit) return false
    if (this.#size + 1 > this.#capacity * MAX_LOAD) {
      this.#rehash(Math.ceil(this.#capacity * 1.5), now)
      return this.put(low, high, expiry, generation, value, now, limit)
    }
    this.#write(slot, low, high, expiry, generation, value)
    this.#size++
    return true
  }

  /** Makes room for `entries` without growing again (called before a load whose size is known roughly). */
  reserve (entries: number, now: number): void {
    const capacity = slotsFor(entries)
    if (capacity > this.capacity) this.#rehash(capacity, now)
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

  #next (slot: number): number {
    return slot + 1 === this.#capacity ? 0 : slot + 1
  }

  #write (slot: number, low: number, high: number, expiry: number, generation: number, value: number): void {
    const at = slot * 3
    this.#keys[at] = low
    this.#keys[at + 1] = high
    this.#keys[at + 2] = expiry
    this.#generations[slot] = generation
    if (this.#values !== undefined) this.#values[slot] = value
  }

  /** Backward-shift deletion: entries after the hole that may live in it move back, so every run stays unbroken. */
  #delete (hole: number): void {
    const keys = this.#keys
    let slot = hole
    for (;;) {
      slot = this.#next(slot)
      const at = slot * 3
      if (keys[at + 2] === EMPTY) break
      const home = this.#home(keys[at] as number)
      // The entry stays when its home lies cyclically in (hole, slot]: moving it before its home would hide it.
      const stays = hole <= slot ? hole < home && home <= slot : hole < home || home <= slot
      if (stays) continue
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
      const low = keys[old * 3] as number
      let slot = this.#home(low)
      while (this.#keys[slot * 3 + 2] !== EMPTY) slot = this.#next(slot)
      this.#write(slot, low, keys[old * 3 + 1] as number, expiry, generations[old] as number, values === undefined ? 0 : values[old] as number)
      this.#size++
    }
  }
}
