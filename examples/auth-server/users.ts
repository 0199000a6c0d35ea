import { randomUUID } from 'node:crypto'

/** What a user may do: an admin may also log any user out and see their sessions. */
export type Role = 'admin' | 'user'

export interface User {
  id: string
  username: string
  passwordHash: string
  role: Role
  /** The last revokeSubject cutoff (Unix seconds) of this user: tokens issued later must have a later iat. */
  tokensCutoff: number
}

/**
 * Users, kept in process memory: this is an example, and the issue asks for nothing more. With REDIS_URL the
 * sessions and the deny-list are shared across instances, the users are not (swap this class for your database).
 */
export class UserStore {
  readonly #byName = new Map<string, User>()
  readonly #byId = new Map<string, User>()
  readonly #adminName: string | undefined

  /**
   * With `adminUsername` the user of that name is the admin, and nobody else; without, the first user to register.
   * Naming the admin is the safer choice: otherwise whoever registers first on a fresh deployment gets the role.
   */
  constructor (adminUsername?: string) {
    this.#adminName = adminUsername?.toLowerCase()
  }

  /** The new user, or undefined when the name is taken (names compare case-insensitively). */
  create (username: string, passwordHash: string): User | undefined {
    const key = username.toLowerCase()
    if (this.#byName.has(key)) return undefined
    const isAdmin = this.#adminName === undefined ? this.#byName.size === 0 : key === this.#adminName
    const user: User = { id: randomUUID(), username, passwordHash, role: isAdmin ? 'admin' : 'user', tokensCutoff: 0 }
    this.#byName.set(key, user)
    this.#byId.set(user.id, user)
    return user
  }

  findByName (username: string): User | undefined {
    return this.#byName.get(username.toLowerCase())
  }

  findById (id: string): User | undefined {
    return this.#byId.get(id)
  }
}
