import type { Cluster, Redis } from 'ioredis'

export interface SubscriptionHandlers {
  message (text: string): void
  /** The connection closed: whatever was published until it is subscribed again is lost to this mirror. */
  lost (): void
  /** The connection is up again (ioredis resubscribes by itself; the mirror resyncs). */
  ready (): void
}

/**
 * The mirror's subscription to its channel, on one plain connection that it owns, so that every loss of it is seen:
 * pub/sub delivers a channel's messages in order and loses them only while the connection is down, so "the connection
 * never closed" is what proves that nothing was missed. `losses` counts the closes.
 *
 * On a Cluster, a Cluster client's own subscriber silently moves to another node when its connection ends (nothing
 * is emitted), so a mirror could not tell it lost messages. The mirror subscribes instead on a plain connection to one
 * primary: PUBLISH reaches every node of a Cluster, so one node hears every write. When subscribing fails (that node
 * is gone), reset() drops the connection, and the next subscribe() picks a primary anew.
 */
export class Subscription {
  readonly #client: Redis | Cluster
  readonly #channel: string
  readonly #handlers: SubscriptionHandlers
  #connection: Redis | undefined
  #losses = 0

  constructor (client: Redis | Cluster, channel: string, handlers: SubscriptionHandlers) {
    this.#client = client
    this.#channel = channel
    this.#handlers = handlers
  }

  /** How many times the connection has closed so far. */
  get losses (): number {
    return this.#losses
  }

  /** Subscribes (connecting first when there is no connection); resolves once Redis confirmed the subscription. */
  async subscribe (): Promise<void> {
    this.#connection ??= this.#watch(await this.#open())
    await this.#connection.subscribe(this.#channel)
  }

  /** Drops the connection (counted as a loss); the next subscribe() opens a new one. */
  reset (): void {
    const connection = this.#connection
    if (connection === undefined) return
    this.#connection = undefined
    connection.removeAllListeners()
    connection.on('error', () => {})
    connection.disconnect()
    this.#losses++
  }

  close (): void {
    this.reset()
  }

  // autoResubscribe off: ioredis's own resubscribe after a reconnect sends SUBSCRIBE without handling its promise, and
  // a connection that closes again at once (or is closed) makes it an unhandled rejection, which can end the process.
  // Nothing is lost by it: every user of a Subscription subscribes again itself when the connection is ready.
  async #open (): Promise<Redis> {
    if (!this.#client.isCluster) return (this.#client as Redis).duplicate({ autoResubscribe: false })
    const cluster = this.#client as Cluster
    // No node is known before the Cluster client has connected; any command waits for that.
    if (cluster.nodes('master').length === 0) await cluster.ping()
    const primaries = cluster.nodes('master')
    const node = primaries[Math.floor(Math.random() * primaries.length)] as Redis
    // A copy of that node's connection (host, port, credentials, TLS), not the node's own, which serves commands.
    return node.duplicate({ lazyConnect: false, autoResubscribe: false })
  }

  #watch (connection: Redis): Redis {
    connection.on('message', (_channel: string, text: string) => this.#handlers.message(text))
    connection.on('close', () => {
      this.#losses++
      this.#handlers.lost()
    })
    connection.on('ready', () => this.#handlers.ready())
    // Connection errors surface as 'close' and failed syncs; this listener only keeps ioredis from printing them.
    connection.on('error', () => {})
    return connection
  }
}
