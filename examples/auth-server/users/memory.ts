import { randomUUID } from 'node:crypto'
import { adminRule, namedAdmin, type AdminRule, type User, type UserStore } from './store.js'

/** Users in process memory, for a single instance; several instances need the Redis store. */
export class MemoryUserStore implements UserStore {
  readonly #byName = new Map<string, User>()
  readonly #byId = new Map<string, User>()
  readonly #admin: AdminRule

  constructor (adminUsername?: string, firstUserIsAdmin = false) {
    this.#admin = adminRule(adminUsername, firstUserIsAdmin)
  }

  async create (username: string, passwordHash: string): Promise<User | undefined> {
    const key = username.toLowerCase()
    if (this.#byName.has(key)) return undefined
    const isAdmin = this.#admin === 'first' ? this.#byName.size === 0 : namedAdmin(this.#admin, username)
    const user: User = { id: randomUUID(), username, passwordHash, role: isAdmin ? 'admin' : 'user', credentialVersion: 0 }
    this.#byName.set(key, user)
    this.#byId.set(user.id, user)
    return { ...user }
  }

  async findByName (username: string): Promise<User | undefined> {
    return this.#copy(this.#byName.get(username.toLowerCase()))
  }

  async findById (id: string): Promise<User | undefined> {
    return this.#copy(this.#byId.get(id))
  }

  async setPasswordHash (id: string, passwordHash: string): Promise<number> {
    const user = this.#byId.get(id)
    if (user === undefined) return 0
    user.passwordHash = passwordHash
    return ++user.credentialVersion
  }

  async restorePasswordHash (id: string, current: string, previous: string): Promise<boolean> {
    const user = this.#byId.get(id)
    if (user?.passwordHash !== current) return false
    user.passwordHash = previous
    return true
  }

  // Callers get copies, as they would from any other store: a change goes through the methods above.
  #copy (user: User | undefined): User | undefined {
    return user === undefined ? undefined : { ...user }
  }
}
