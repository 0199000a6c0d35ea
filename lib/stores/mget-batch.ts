import type { Redis } from 'ioredis'

type Values = Array<string | null>

interface Waiter {
  /** How many of the batch's keys, from the previous waiter's end, are this lookup's. */
  count: number
  resolve: (values: Values) => void
  reject: (error: unknown) => void
}

/**
 * Merges the lookups of one event-loop turn into a single MGET. ioredis's auto-pipelining already sends them in one
 * write, but Redis still parses, dispatches and answers each command, and the client builds and parses each one; one
 * command for the whole turn pays that once. Lookups queue while a batch is in flight and go together when it comes
 * back, so under load a batch holds every check that arrived during one round trip (the same rule auto-pipelining
 * follows). A failed MGET fails every lookup it carried, and nothing else.
 *
 * Only for a single Redis: on a Cluster one MGET may only name keys of one slot.
 */
export class MgetBatch {
  readonly #client: Redis
  #keys: string[] = []
  #waiters: Waiter[] = []
  #scheduled = false
  #inFlight = false

  constructor (client: Redis) {
    this.#client = client
  }

  /** The values of these keys, in order, read by the next MGET. */
  get (keys: string[]): Promise<Values> {
    return new Promise((resolve, reject) => {
      for (const key of keys) this.#keys.push(key)
      this.#waiters.push({ count: keys.length, resolve, reject })
      if (!this.#scheduled && !this.#inFlight) {
        this.#scheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const keys = this.#keys
    const waiters = this.#waiters
    this.#keys = []
    this.#waiters = []
    this.#inFlight = true
    this.#client.mget(keys).then((values) => {
      let start = 0
      for (const waiter of waiters) {
        waiter.resolve(values.slice(start, start + waiter.count))
        start += waiter.count
      }
    }, (error: unknown) => {
      for (const waiter of waiters) waiter.reject(error)
    }).finally(this.#landed)
  }

  readonly #landed = (): void => {
    this.#inFlight = false
    if (this.#waiters.length > 0) this.#flush()
  }
}
