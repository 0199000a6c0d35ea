/** A failed sync is retried after one heartbeat, then after twice as long each time, up to this many heartbeats. */
const MAX_RETRY_BEATS = 30

/** When the mirror tries to sync again: one timer at a time, backing off while syncs keep failing. */
export class Backoff {
  readonly #stepMs: number
  readonly #retry: () => void
  #failures = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  /** `retry` is called once per later(), after one step the first time, and twice as long after each failure. */
  constructor (stepMs: number, retry: () => void) {
    this.#stepMs = stepMs
    this.#retry = retry
  }

  failed (): void {
    this.#failures++
  }

  succeeded (): void {
    this.#failures = 0
  }

  /** Schedules a retry, unless one is scheduled already or it was stopped. */
  later (): void {
    if (this.#timer !== undefined || this.#stopped) return
    const delay = this.#stepMs * Math.min(2 ** this.#failures, MAX_RETRY_BEATS)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#retry()
    }, delay).unref()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }
}
