import { liveAccess, type RotateRequest, type RotateResult, type SessionRecord, type SessionStore } from './store.js'

const SWEEP_INTERVAL = 60_000

interface Entry {
  session: SessionRecord
  expiresAt: number
}

/**
 * Sessions in process memory, for a single instance. Each method runs to completion without awaiting anything, so
 * in one process a rotation is atomic as it is; several instances need the Redis store.
 */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, Entry>()
  readonly #byUser = new Map<string, Set<string>>()
  #nextSweep = Date.now() + SWEEP_INTERVAL

  async create (session: SessionRecord, ttl: number): Promise<void> {
    this.#sweep(session.createdAt)
    this.#sessions.set(session.id, { session, expiresAt: session.createdAt + ttl * 1000 })
    const ids = this.#byUser.get(session.userId) ?? new Set<string>()
    ids.add(session.id)
    this.#byUser.set(session.userId, ids)
  }

  async rotate ({ userId, sessionId, presented, next, now, grace, ttl }: RotateRequest): Promise<RotateResult> {
    const entry = this.#live(userId, sessionId, now)
    if (entry === undefined) return { outcome: 'missing' }
    const { session } = entry
    if (presented === session.refresh.jti) {
      session.previous = { ...session.refresh, rotatedAt: now }
      session.refresh = next.refresh
      session.access = [...liveAccess(session.access, now), next.access]
      session.lastRefreshedAt = now
      entry.expiresAt = now + ttl * 1000
      return { outcome: 'rotated', session }
    }
    const previous = session.previous
    if (previous !== null && presented === previous.jti && now - previous.rotatedAt < grace * 1000) {
      session.access = [...liveAccess(session.access, now), next.access]
      session.lastRefreshedAt = now
      return { outcome: 'grace', session }
    }
    this.#remove(session)
    return { outcome: 'reused', session }
  }

  async end (userId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const entry = this.#live(userId, sessionId, Date.now())
    if (entry !== undefined) this.#remove(entry.session)
    return entry?.session
  }

  async list (userId: string): Promise<SessionRecord[]> {
    const now = Date.now()
    const ids = [...this.#byUser.get(userId) ?? []]
    return ids.flatMap((id) => this.#live(userId, id, now)?.session ?? []).sort((a, b) => a.createdAt - b.createdAt)
  }

  /** The entry when it exists, is the user's and has not expired; an expired one is dropped on the way. */
  #live (userId: string, sessionId: string, now: number): Entry | undefined {
    const entry = this.#sessions.get(sessionId)
    if (entry === undefined || entry.session.userId !== userId) return undefined
    if (entry.expiresAt > now) return entry
    this.#remove(entry.session)
    return undefined
  }

  /** Drops expired sessions of users who never came back; at most once per SWEEP_INTERVAL, from a write. */
  #sweep (now: number): void {
    if (now < this.#nextSweep) return
    this.#nextSweep = now + SWEEP_INTERVAL
    for (const entry of this.#sessions.values()) {
      if (entry.expiresAt <= now) this.#remove(entry.session)
    }
  }

  #remove (session: SessionRecord): void {
    this.#sessions.delete(session.id)
    const ids = this.#byUser.get(session.userId)
    ids?.delete(session.id)
    if (ids?.size === 0) this.#byUser.delete(session.userId)
  }
}
