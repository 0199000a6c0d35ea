import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { adminRule, namedAdmin, type AdminRule, type Role, type User, type UserStore } from './store.js'

// KEYS: the name's key (holds the id), the user's hash, the key holding the first user's id. ARGV: id, username,
// password hash, role ('admin', 'user', or 'first': admin when no user was created before). One script, so two
// instances registering the same name, or the first two users, at once cannot both win.
const CREATE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return false end
local role = ARGV[4]
if role == 'first' then
  role = redis.call('SET', KEYS[3], ARGV[1], 'NX') and 'admin' or 'user'
end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'username', ARGV[2], 'passwordHash', ARGV[3], 'role', role, 'credentialVersion', '0')
return role
`

// KEYS: the user's hash. ARGV: the new password hash. Sets it and raises credentialVersion together: a login that
// checked the old hash sees the version move. Returns the new version (0 for a user that does not exist).
const SET_PASSWORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'credentialVersion', 1)
`

// KEYS: the user's hash. ARGV: the hash expected now, the hash to put back. A compare-and-set: never undoes a later change.
const RESTORE_PASSWORD = `
if redis.call('HGET', KEYS[1], 'passwordHash') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'passwordHash', ARGV[2])
return 1
`

interface UserCommands {
  createUser (nameKey: string, userKey: string, firstKey: string, id: string, username: string, hash: string, role: Role | 'first'): Promise<Role | null>
  setPassword (userKey: string, hash: string): Promise<number>
  restorePassword (userKey: string, current: string, previous: string): Promise<number>
}

function isRole (value: string | undefined): value is Role {
  return value === 'admin' || value === 'user'
}

/**
 * Users in Redis, shared by every instance: a user registered on one instance logs in, changes their password or is
 * logged out by an admin on any other. Every key carries the hash tag {users}, so on Redis Cluster they share one slot
 * and the scripts may touch several of them.
 */
export class RedisUserStore implements UserStore {
  readonly #client: Redis & UserCommands
  readonly #prefix: string
  readonly #admin: AdminRule

  constructor (client: Redis, prefix: string, adminUsername?: string, firstUserIsAdmin = false) {
    client.defineCommand('createUser', { numberOfKeys: 3, lua: CREATE })
    client.defineCommand('setPassword', { numberOfKeys: 1, lua: SET_PASSWORD })
    client.defineCommand('restorePassword', { numberOfKeys: 1, lua: RESTORE_PASSWORD })
    this.#client = client as Redis & UserCommands
    this.#prefix = `${prefix}{users}:`
    this.#admin = adminRule(adminUsername, firstUserIsAdmin)
  }

  #nameKey (username: string): string {
    return `${this.#prefix}name:${username.toLowerCase()}`
  }

  #userKey (id: string): string {
    return `${this.#prefix}id:${id}`
  }

  async create (username: string, passwordHash: string): Promise<User | undefined> {
    const id = randomUUID()
    const rule = this.#admin === 'first' ? 'first' : namedAdmin(this.#admin, username) ? 'admin' : 'user'
    const role = await this.#client.createUser(
      this.#nameKey(username), this.#userKey(id), `${this.#prefix}first`, id, username, passwordHash, rule
    )
    return role === null ? undefined : { id, username, passwordHash, role, credentialVersion: 0 }
  }

  async findByName (username: string): Promise<User | undefined> {
    const id = await this.#client.get(this.#nameKey(username))
    return id === null ? undefined : await this.findById(id)
  }

  async findById (id: string): Promise<User | undefined> {
    const fields: Record<string, string | undefined> = await this.#client.hgetall(this.#userKey(id))
    const { username, passwordHash, role, credentialVersion } = fields
    if (username === undefined || passwordHash === undefined || !isRole(role)) return undefined
    return { id, username, passwordHash, role, credentialVersion: Number(credentialVersion ?? 0) }
  }

  async setPasswordHash (id: string, passwordHash: string): Promise<number> {
    return await this.#client.setPassword(this.#userKey(id), passwordHash)
  }

  async restorePasswordHash (id: string, current: string, previous: string): Promise<boolean> {
    return await this.#client.restorePassword(this.#userKey(id), current, previous) === 1
  }
}
