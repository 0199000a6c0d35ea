/** What a user may do: an admin may also log any user out and see their sessions. */
export type Role = 'admin' | 'user'

export interface User {
  id: string
  username: string
  passwordHash: string
  role: Role
  /**
   * Raised with every password change. A login hands out its tokens only if it is unchanged since the password was
   * checked, so a login with the old password in flight during a change never survives it.
   */
  credentialVersion: number
}

/**
 * Where users live: in process memory (one instance), or in Redis with REDIS_URL, so that every instance serves every
 * user. Names compare case-insensitively. A real deployment puts this in its database, behind the same methods.
 */
export interface UserStore {
  /** The new user, or undefined when the name is taken. Atomic in the store: two instances cannot both create a name. */
  create (username: string, passwordHash: string): Promise<User | undefined>
  findByName (username: string): Promise<User | undefined>
  findById (id: string): Promise<User | undefined>
  /** Sets the hash and raises credentialVersion, in one step; the new version. */
  setPasswordHash (id: string, passwordHash: string): Promise<number>
  /** Puts `previous` back, only while the hash is still `current` (a change undone); true when it did. */
  restorePasswordHash (id: string, current: string, previous: string): Promise<boolean>
}

/** Who becomes the admin at registration. */
export type AdminRule = { name: string } | 'first' | 'nobody'

/**
 * Who is the admin: with `adminUsername` the user of that name and nobody else; with `firstUserIsAdmin` (and no
 * name) the first user to register; otherwise nobody. Never the first user by default: on a fresh deployment whoever
 * registers first, an attacker racing the operator included, would get the role.
 */
export function adminRule (adminUsername: string | undefined, firstUserIsAdmin = false): AdminRule {
  if (adminUsername !== undefined) return { name: adminUsername.toLowerCase() }
  return firstUserIsAdmin ? 'first' : 'nobody'
}

/** Whether the user registering as `username` is the admin, for a rule other than 'first' (decided by the store). */
export function namedAdmin (rule: Exclude<AdminRule, 'first'>, username: string): boolean {
  return rule !== 'nobody' && username.toLowerCase() === rule.name
}
