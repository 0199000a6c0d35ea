/** Beats missed in a row after which the subscription is taken for silently dead. */
const MISSED_BEATS = 3

/**
 * A ping the mirror publishes on its own channel every beat and expects to hear back on its subscription: a
 * connection that died without closing (a partition that drops packets) is caught when three beats go unheard.
 */
export class Heartbeat {
  readonly #beatMs: number
  readonly #ping: () => Promise<unknown>
  readonly #silent: () => void
  #lastHeard = 0
  #timer: NodeJS.Timeout | undefined

  /** `silent` is called at a beat when three have gone unheard since the last one heard (or the last restart()). */
  constructor (beatMs: number, ping: () => Promise<unknown>, silent: () => void) {
    this.#beatMs = beatMs
    this.#ping = ping
    this.#silent = silent
  }

  start (): void {
    this.#timer ??= setInterval(() => this.#beat(), this.#beatMs).unref()
  }

  /** The ping came back. */
  heard (): void {
    this.#lastHeard = Date.now()
  }

  /** Counts missed beats from now (a sync just proved the subscription alive). */
  restart (): void {
    this.#lastHeard = Date.now()
  }

  stop (): void {
    clearInterval(this.#timer)
  }

  #beat (): void {
    if (Date.now() - this.#lastHeard > MISSED_BEATS * this.#beatMs) this.#silent()
    this.#ping().catch(() => {})
  }
}
