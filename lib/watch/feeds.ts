import { randomUUID } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { withDeadline } from '../deadline.js'
import { parseMessage, type MirrorMessage } from '../stores/mirror-message.js'
import { Subscription } from '../stores/mirror-subscription.js'
import { eventOf, type RevocationEvent } from './kinds.js'

export interface FeedHandlers {
  /** A revocation was written, by anyone. */
  revoked (event: RevocationEvent): void
  /** Revocations may have been missed from now on, until live() is called again. */
  lost (): void
  /** Every revocation written from now on is delivered (a check of the store made after this misses nothing). */
  live (): void
}

/** Where the watches hear of revocations. */
export interface RevocationFeed {
  start (handlers: FeedHandlers): void
  close (): void
}

/** What the memory store offers: every revocation written to it, in process, as the Redis writers publish them. */
export interface AnnouncingStore {
  onRevocation (listener: (message: MirrorMessage) => void): () => void
}

/** The memory store's feed: in process, so it is never lost. */
export function memoryFeed (store: AnnouncingStore): RevocationFeed {
  let stop: (() => void) | undefined
  return {
    start (handlers) {
      stop = store.onRevocation((message) => handlers.revoked(eventOf(message)))
      handlers.live()
    },
    close () {
      stop?.()
    }
  }
}

export interface RedisFeedOptions {
  /** The store's client: the subscriber is a copy of it, and the heartbeat is published on it. */
  client: Redis | Cluster
  /** The channel every writer publishes on (RedisStore#channel). */
  channel: string
  /** Milliseconds between heartbeats; three unheard ones count as a lost subscription. */
  heartbeat: number
}

/** A failed subscribe is retried after one heartbeat, then after twice as long each time, up to this many heartbeats. */
const MAX_RETRY_BEATS = 30

/**
 * The Redis feed: a subscription to the channel every writer already publishes on (RedisStore's write scripts), on a
 * connection of its own. Pub/sub loses messages only while that connection is down, and a connection can also go
 * silent without closing: a heartbeat published on the store's connection must come back within three beats, or the
 * subscription is dropped and opened anew. Every loss is reported (lost), and live is reported only once Redis has
 * confirmed the subscription again, so that a check of the store made after it misses nothing.
 */
export function redisFeed (options: RedisFeedOptions): RevocationFeed {
  const id = randomUUID()
  const ping = JSON.stringify(['p', id])
  let handlers: FeedHandlers
  let subscription: Subscription
  let live = false
  let closed = false
  let lastHeard = 0
  let failures = 0
  let subscribing: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  let retry: NodeJS.Timeout | undefined

  function lose (): void {
    live = false
    handlers.lost()
  }

  function retryLater (): void {
    // A close during a subscribe fails it: no retry then.
    if (closed) return
    const delay = options.heartbeat * Math.min(2 ** failures, MAX_RETRY_BEATS)
    retry = setTimeout(() => {
      retry = undefined
      subscribe()
    }, delay).unref()
  }

  async function confirm (): Promise<void> {
    try {
      await withDeadline(subscription.subscribe(), 5 * options.heartbeat)
    } catch {
      // That connection (on a Cluster, that node) may never come back: the next attempt opens a new one.
      subscription.reset()
      failures++
      lose()
      retryLater()
      return
    }
    failures = 0
    lastHeard = Date.now()
    live = true
    handlers.live()
  }

  /** One subscribe at a time. */
  function subscribe (): void {
    subscribing ??= confirm().finally(() => { subscribing = undefined })
  }

  function beat (): void {
    if (live && Date.now() - lastHeard > 3 * options.heartbeat) {
      subscription.reset()
      lose()
      subscribe()
    }
    options.client.publish(options.channel, ping).catch(() => {})
  }

  return {
    start (feedHandlers) {
      handlers = feedHandlers
      subscription = new Subscription(options.client, options.channel, {
        message (text) {
          const message = parseMessage(text)
          if (message === undefined) return
          if (message[0] !== 'p') handlers.revoked(eventOf(message))
          else if (message[1] === id) lastHeard = Date.now()
        },
        lost: lose,
        // ioredis subscribes again by itself; subscribing once more is how this feed learns when that is confirmed.
        ready: subscribe
      })
      timer = setInterval(beat, options.heartbeat).unref()
      subscribe()
    },
    close () {
      closed = true
      clearInterval(timer)
      clearTimeout(retry)
      subscription.close()
    }
  }
}
