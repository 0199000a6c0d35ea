import type { RevocationClaims } from '../stores/store.js'
import { WATCH_KINDS, type RevocationEvent, type RevokedReason, type WatchKind } from './kinds.js'

/** One watched token: its claims, whom to tell, and the entries it is indexed under. */
export interface Watch {
  readonly claims: RevocationClaims
  readonly listener: (reason: RevokedReason) => void
  /** Told 'gap' when the subscription is lost, instead of being checked again once it is back. */
  readonly closeOnGap: boolean
  readonly entries: readonly string[]
}

interface Bucket {
  kind: WatchKind
  watches: Set<Watch>
}

/**
 * Every watched token, indexed by the store entries that would revoke it. Nothing here runs on a request: a write
 * announced costs one map lookup, and then only the watches of that entry are visited.
 */
export class WatchRegistry {
  readonly #all = new Set<Watch>()
  readonly #byEntry = new Map<string, Bucket>()

  get size (): number {
    return this.#all.size
  }

  /** Every watch, in the order they were added. */
  get all (): ReadonlySet<Watch> {
    return this.#all
  }

  has (watch: Watch): boolean {
    return this.#all.has(watch)
  }

  add (claims: RevocationClaims, listener: Watch['listener'], closeOnGap: boolean): Watch {
    const kinds: WatchKind[] = []
    const entries: string[] = []
    for (const kind of WATCH_KINDS) {
      const entry = kind.entry(claims)
      if (entry === undefined) continue
      kinds.push(kind)
      entries.push(entry)
    }
    const watch: Watch = { claims, listener, closeOnGap, entries }
    this.#all.add(watch)
    kinds.forEach((kind, index) => {
      const entry = entries[index] as string
      const bucket = this.#byEntry.get(entry)
      if (bucket === undefined) this.#byEntry.set(entry, { kind, watches: new Set([watch]) })
      else bucket.watches.add(watch)
    })
    return watch
  }

  /** Forgets the watch (a no-op for one already forgotten); an emptied entry is dropped, so nothing grows for ever. */
  delete (watch: Watch): boolean {
    if (!this.#all.delete(watch)) return false
    for (const entry of watch.entries) {
      const bucket = this.#byEntry.get(entry) as Bucket
      bucket.watches.delete(watch)
      if (bucket.watches.size === 0) this.#byEntry.delete(entry)
    }
    return true
  }

  /** The watches this write revokes, with the reason of each. */
  covered (event: RevocationEvent): Array<[Watch, RevokedReason]> {
    const bucket = this.#byEntry.get(event.entry)
    if (bucket === undefined) return []
    const covered: Array<[Watch, RevokedReason]> = []
    for (const watch of bucket.watches) {
      if (bucket.kind.covers(watch.claims, event)) covered.push([watch, bucket.kind.reason])
    }
    return covered
  }
}
