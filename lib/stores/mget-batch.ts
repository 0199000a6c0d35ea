import { Command, type Redis } from 'ioredis'
import { StoreUnavailableError } from '../errors.js'

type Values = Array<string | null>

interface Waiter {
  keys: string[]
  resolve: (values: Values) => void
  reject: (error: unknown) => void
}

/** Keys per MGET at most: one huge MGET would hold up Redis's other clients while it runs. */
export const MAX_KEYS_PER_MGET = 512

export interface MgetBatchOptions {
  /**
   * Lookups that may wait behind a batch in flight; more are refused at once (FST_JWT_REVOKE_STORE_UNAVAILABLE). A
   * Redis that stopped answering (paused, blackholed) would otherwise have every later check queue here, each long
   * after its request got its 503, until memory runs out. Default 100 000.
   */
  maxWaiting?: number
}

/**
 * Merges the lookups of one event-loop turn into a single MGET. One command per check costs Redis a parse, a dispatch
 * and a reply each, and the client a command object, a write and a parse each (ioredis's auto-pipelining saves the
 * writes only); one command for the whole turn pays that once. Lookups queue while a batch is in flight and go
 * together when it comes back, so under load a batch holds every check that arrived during one round trip (the rule
 * auto-pipelining follows). That wait costs nothing: on one connection, a command sent earlier would be answered
 * after the batch ahead of it anyway. A failed MGET fails every lookup it carried, and nothing else.
 *
 * Only for a single Redis: on a Cluster one MGET may only name keys of one slot.
 */
export class MgetBatch {
  readonly #client: Redis
  readonly #maxWaiting: number
  #waiters: Waiter[] = []
  #scheduled = false
  #inFlight = 0

  constructor (client: Redis, options: MgetBatchOptions = {}) {
    this.#client = client
    this.#maxWaiting = options.maxWaiting ?? 100_000
  }

  /** The values of these keys, in order, read by the next MGET. */
  get (keys: string[]): Promise<Values> {
    return new Promise((resolve, reject) => {
      if (this.#waiters.length >= this.#maxWaiting) {
        reject(new StoreUnavailableError(`${this.#maxWaiting} checks are already waiting for Redis`))
        return
      }
      this.#waiters.push({ keys, resolve, reject })
      if (!this.#scheduled && this.#inFlight === 0) {
        this.#scheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    const queued = this.#waiters
    this.#waiters = []
    let start = 0
    while (start < queued.length) {
      const keys: string[] = []
      let end = start
      // At least one lookup per MGET, however many keys it has.
      do keys.push(...(queued[end++] as Waiter).keys)
      while (end < queued.length && keys.length + (queued[end] as Waiter).keys.length <= MAX_KEYS_PER_MGET)
      this.#send(keys, queued.slice(start, end))
      start = end
    }
  }

  #send (keys: string[], waiters: Waiter[]): void {
    this.#inFlight++
    // Sent as a plain command, past ioredis's auto-pipelining (when the client has it on): the batch already is the
    // one command of its turn, and a pipeline around it would only add a Pipeline object and a tick per batch.
    const mget = new Command('mget', keys, { replyEncoding: 'utf8', keyPrefix: this.#client.options.keyPrefix })
    this.#client.sendCommand(mget)
    ;(mget.promise as Promise<Values>).then((values) => {
      let start = 0
      for (const waiter of waiters) {
        waiter.resolve(values.slice(start, start + waiter.keys.length))
        start += waiter.keys.length
      }
    }, (error: unknown) => {
      for (const waiter of waiters) waiter.reject(error)
    }).finally(this.#landed)
  }

  readonly #landed = (): void => {
    this.#inFlight--
    if (this.#inFlight === 0 && this.#waiters.length > 0) this.#flush()
  }
}
