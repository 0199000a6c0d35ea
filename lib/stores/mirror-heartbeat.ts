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
  #lastBeat = 0
  #timer: NodeJS.Timeout | undefined

  /** `silent` is called at a beat when three have gone unheard since the last one heard (or the last restart()). */
  constructor (beatMs: number, ping: () => Promise<unknown>, silent: () => void) {
    this.#beatMs = beatMs
    this.#ping = ping
    this.#silent = silent
  }

  start (): void {
    this.#lastBeat = Date.now()
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
    const now = Date.now()
    // A beat that comes late means this process's event loop was blocked (a long synchronous job): the pings sent
    // before the pause wait, unread, in the socket, and are read right after this timer. Judging now would take a
    // paused process for a silent connection and throw away a whole copy; the next beat judges instead.
    const late = now - this.#lastBeat > 2 * this.#beatMs
    this.#lastBeat = now
    if (!late && now - this.#lastHeard > MISSED_BEATS * this.#beatMs) this.#silent()
    this.#ping().catch(() => {})
  }
}
