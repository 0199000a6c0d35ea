/** An expiry of 0 marks an empty slot: every live entry expires after 1970. */
const EMPTY = 0
/** Slots per entry a table keeps at least: past 80 % full, a lookup that misses walks long runs of full slots. */
const MAX_LOAD = 0.8
const MIN_CAPACITY = 1024

export interface FlatTableOptions {
  /** Keep a number beside each entry (a subject's cutoff). */
  withValues?: boolean
  /** Entries to make room for from the start. */
  entries?: number
}

function slotsFor (entries: number): number {
  let capacity = MIN_CAPACITY
  while (capacity * MAX_LOAD < entries) capacity *= 2
  return capacity
}

/**
 * A set of 64-bit fingerprints, each with an expiry in whole seconds, a generation stamp and optionally a number, in
 * flat typed arrays: 13 bytes a slot (21 with a value), outside the JavaScript heap, so ten million entries are a few
 * hundred megabytes that the garbage collector never walks. Open addressing with linear probing; a deletion shifts the
 * entries after it back (no tombstones, so lookups never slow down with churn). It grows by rehashing into arrays
 * twice as large. Every method takes the time in seconds: an entry whose expiry is not after it is treated as absent.
 */
export class FlatTable {
  /** Per slot: fingerprint low, fingerprint high, expiry (seconds since the epoch, EMPTY for none). */
  #keys: Uint32Array
  #generations: Uint8Array
  #values: Float64Array | undefined
  #mask: number
  #size = 0

  constructor (options: FlatTableOptions = {}) {
    const capacity = slotsFor(options.entries ?? 0)
    this.#keys = new Uint32Array(capacity * 3)
    this.#generations = new Uint8Array(capacity)
    this.#values = options.withValues === true ? new Float64Array(capacity) : undefined
    this.#mask = capacity - 1
  }

  /** Entries held, expired ones not swept yet included. */
  get size (): number {
    return this.#size
  }

  get capacity (): number {
    return this.#mask + 1
  }

  /** Bytes its arrays take. */
  get bytes (): number {
    return this.#keys.byteLength + this.#generations.byteLength + (this.#values?.byteLength ?? 0)
  }

  /** The slot of the live entry with this fingerprint, or -1. */
  find (low: number, high: number, now: number): number {
    const keys = this.#keys
    const mask = this.#mask
    let slot = low & mask
    for (;;) {
      const at = slot * 3
      const expiry = keys[at + 2] as number
      if (expiry === EMPTY) return -1
      if (keys[at] === low && keys[at + 1] === high) return expiry > now ? slot : -1
      slot = (slot + 1) & mask
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
    const mask = this.#mask
    let slot = low & mask
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
      slot = (slot + 1) & mask
    }
    if (this.#size >= limit) return false
    if (this.#size + 1 > this.capacity * MAX_LOAD) {
      this.#rehash(this.capacity * 2, now)
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
    for (let slot = from; slot < to && slot <= this.#mask; slot++) {
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
    const mask = this.#mask
    let slot = hole
    for (;;) {
      slot = (slot + 1) & mask
      const at = slot * 3
      if (keys[at + 2] === EMPTY) break
      const home = (keys[at] as number) & mask
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
    this.#mask = capacity - 1
    this.#size = 0
    const mask = this.#mask
    for (let old = 0; old < slots; old++) {
      const expiry = keys[old * 3 + 2] as number
      if (expiry <= now) continue
      const low = keys[old * 3] as number
      let slot = low & mask
      while (this.#keys[slot * 3 + 2] !== EMPTY) slot = (slot + 1) & mask
      this.#write(slot, low, keys[old * 3 + 1] as number, expiry, generations[old] as number, values === undefined ? 0 : values[old] as number)
      this.#size++
    }
  }
}
