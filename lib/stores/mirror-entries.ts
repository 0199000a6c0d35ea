import { MirrorGrowingError, StoreFullError } from '../errors.js'
import { Fingerprint } from './fingerprint.js'
import { FlatTable } from './flat-table.js'

export interface MirrorEntriesOptions {
  /** Live entries (revoked ids plus subject cutoffs) it may hold; an add beyond it throws StoreFullError. */
  maxEntries?: number | undefined
  /**
   * Entries up to which a table grows in place, rehashing at once (under about 10 ms). A larger table that fills up
   * while no sync runs is not rehashed: an add throws MirrorGrowingError, the mirror goes out of sync (Redis answers
   * its checks), and the next sync loads into a new, larger table. Default 65 536.
   */
  growInPlaceUpTo?: number | undefined
  /** The clock, in milliseconds (tests move it). */
  now?: () => number
}

/** Expiries are whole seconds in a Uint32: the largest is in 2106, later than any token this package accepts. */
const MAX_EXPIRY = 0xffffffff
/** A full table's entries times this make a table half as large again (sized 70 % full, it was full at 80 %). */
const GROWTH = 1.3
/** Milliseconds of each slice of commitMemory: well within a 10 ms stall, even with some faults slower than others. */
const COMMIT_SLICE_MS = 3
/** Slots of each table one sweep slice looks at: a fraction of a millisecond. */
const SLICE = 16_384

/** Where the slice after the one at `cursor` starts: back at the first slot after the last. */
function nextSlice (cursor: number, table: FlatTable): number {
  return cursor + SLICE >= table.capacity ? 0 : cursor + SLICE
}

/**
 * The mirror's copy of the deny-list: revoked token entries and subject and session cutoffs, each kept as a 64-bit fingerprint of
 * its entry string (never the string), with its expiry rounded up to the second (so it is never shorter than in Redis)
 * and, for a cutoff, its value to the millisecond.
 *
 * Two entries may share a fingerprint. With n entries held and the hash spreading entries evenly, a token that was
 * never revoked matches one with probability n / 2^64 per check (5.4e-13 at 10 million entries). Such a match costs
 * nothing but a confirmation: the mirror answers "revoked" only after Redis holds the exact key (see MirrorStore).
 *
 * Resync in place: every entry carries the generation of the sync that last loaded or heard it. A sync stamps every
 * entry it loads or hears with a new generation; once it completes, an entry of an older generation is one Redis no
 * longer holds (a sync loads every live key, and hears every write made while it loads), and sweeps drop it. Sweeps
 * run in small slices (sweepSlice), so that ten million entries never stall the event loop.
 */
export class MirrorEntries {
  readonly #tokens = new FlatTable()
  readonly #cutoffs = new FlatTable({ withValues: true })
  readonly #fingerprint = new Fingerprint()
  readonly #maxEntries: number
  readonly #growInPlaceUpTo: number
  readonly #now: () => number
  /** An add found a table too large to rehash in place full: the next sync gives it room. */
  #needsRoom = false
  #generation = 1
  /** While a sync runs, only its own entries are sure to be current. */
  #syncing = false
  /** The generation entries must carry to be kept, once a sync has completed; -1 keeps every generation. */
  #keep = -1
  #tokenCursor = 0
  #cutoffCursor = 0

  constructor (options: MirrorEntriesOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000
    this.#growInPlaceUpTo = options.growInPlaceUpTo ?? 65_536
    this.#now = options.now ?? Date.now
  }

  /** Entries held, expired and stale ones not swept yet included. */
  get size (): number {
    return this.#tokens.size + this.#cutoffs.size
  }

  /** Bytes the tables take (their typed arrays). */
  get bytes (): number {
    return this.#tokens.bytes + this.#cutoffs.bytes
  }

  /** Whether the fingerprint of this token entry is held, live. */
  hasToken (entry: string): boolean {
    this.#fingerprint.of(entry)
    return this.#tokens.find(this.#fingerprint.low, this.#fingerprint.high, this.#seconds()) !== -1
  }

  /** The cutoff held for this subject or session entry, or undefined. */
  cutoffOf (entry: string): number | undefined {
    this.#fingerprint.of(entry)
    const slot = this.#cutoffs.find(this.#fingerprint.low, this.#fingerprint.high, this.#seconds())
    return slot === -1 ? undefined : this.#cutoffs.value(slot)
  }

  addToken (entry: string, expiresAt: number): void {
    this.#add(this.#tokens, this.#cutoffs, entry, expiresAt, 0)
  }

  /**
   * A subject's or a session's cutoff ('{S}:cutoff' or '{SID}:sid', whose fingerprints differ as their strings do, so
   * one table holds both). Keeps the later cutoff and the later expiry: an older `before` never shortens a revocation.
   */
  addCutoff (entry: string, cutoff: number, expiresAt: number): void {
    this.#add(this.#cutoffs, this.#tokens, entry, expiresAt, cutoff)
  }

  /** A sync starts: what it loads or hears from now on gets a new generation. */
  beginSync (): void {
    this.#generation = (this.#generation % 255) + 1
    this.#syncing = true
    this.#keep = -1
  }

  /** A sync completed: entries of any older generation are gone from Redis, and sweeps drop them. */
  endSync (): void {
    this.#syncing = false
    this.#keep = this.#generation
  }

  /** A sync failed: nothing is dropped for its generation until one completes. */
  abortSync (): void {
    this.#syncing = false
  }

  /**
   * Sizes the tables for a load of about `entries` (bounded by maxEntries), so that they do not grow during it. With
   * `mayEmpty` (the copy is not in use: checks go to Redis until the load completes), a table too large to rehash in
   * place is emptied into new arrays instead, which the load refills: no stall, and never two tables at once.
   */
  reserve (entries: number, mayEmpty = false): void {
    const needsRoom = this.#needsRoom
    this.#needsRoom = false
    const now = this.#seconds()
    for (const [table, wanted] of [[this.#tokens, entries], [this.#cutoffs, 0]] as const) {
      // A table that filled up since the last sync grows by half, whatever the key count says.
      const target = Math.min(Math.max(wanted, needsRoom && table.crowded ? Math.ceil(table.size * GROWTH) : 0), this.#maxEntries)
      if (!table.tooSmallFor(target)) continue
      if (mayEmpty && !this.#growsInPlace(table)) table.rebuild(target)
      else table.reserve(target, now)
    }
  }

  /** Commits the tables' memory before a load fills them (see FlatTable#commitMemory), a few milliseconds at a time. */
  async commitMemory (sliceMs = COMMIT_SLICE_MS): Promise<void> {
    await this.#tokens.commitMemory(sliceMs)
    await this.#cutoffs.commitMemory(sliceMs)
  }

  /** Sweeps the next slice of each table (expired entries, and stale ones after a sync); answers how many it dropped. */
  sweepSlice (): number {
    const now = this.#seconds()
    const dropped = this.#tokens.sweep(this.#tokenCursor, this.#tokenCursor + SLICE, now, this.#keep) +
      this.#cutoffs.sweep(this.#cutoffCursor, this.#cutoffCursor + SLICE, now, this.#keep)
    this.#tokenCursor = nextSlice(this.#tokenCursor, this.#tokens)
    this.#cutoffCursor = nextSlice(this.#cutoffCursor, this.#cutoffs)
    return dropped
  }

  #growsInPlace (table: FlatTable): boolean {
    return table.size < this.#growInPlaceUpTo
  }

  #seconds (): number {
    return Math.floor(this.#now() / 1000)
  }

  #add (table: FlatTable, other: FlatTable, entry: string, expiresAt: number, value: number): void {
    this.#fingerprint.of(entry)
    const { low, high } = this.#fingerprint
    const expiry = Math.min(Math.ceil(expiresAt / 1000), MAX_EXPIRY)
    const now = this.#seconds()
    // While a sync loads, the copy answers nothing and a table grows in place (only the cutoff table can: reserve()
    // sized the token table from the key count). In use, a large table asks for room instead (see reserve()).
    if (!this.#syncing && table.crowded && !this.#growsInPlace(table) && !table.holds(low, high)) {
      this.#needsRoom = true
      throw new MirrorGrowingError(table.size, 80)
    }
    if (table.put(low, high, expiry, this.#generation, value, now, this.#maxEntries - other.size)) return
    // Full: the one sweep of whole tables, only at the bound. While a sync runs, what it has not loaded again may go.
    const keep = this.#syncing ? this.#generation : this.#keep
    this.#tokens.sweep(0, this.#tokens.capacity, now, keep)
    this.#cutoffs.sweep(0, this.#cutoffs.capacity, now, keep)
    if (!table.put(low, high, expiry, this.#generation, value, now, this.#maxEntries - other.size)) throw new StoreFullError(this.#maxEntries)
  }
}
