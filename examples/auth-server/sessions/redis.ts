import type { Redis } from 'ioredis'
import type { RotateRequest, RotateResult, SessionRecord, SessionStore, TokenRef } from './store.js'

// The rotation runs inside Redis as one script, so it is atomic across every instance of the app: of two refreshes
// with the same token, whichever reaches Redis second finds it already rotated. Sessions are JSON strings; cjson
// turns an empty array into {}, which parseSession reads back as [].
// KEYS: the session, the user's set of session ids. ARGV: presented jti, next refresh (JSON), next access (JSON),
// now (ms), grace (ms), ttl (s). EXPIRE ... GT needs Redis 7.
const ROTATE = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {'missing'} end
local s = cjson.decode(raw)
local now = tonumber(ARGV[4])
local access = {}
for _, t in ipairs(s.access) do
  if t.exp * 1000 > now then table.insert(access, t) end
end
table.insert(access, cjson.decode(ARGV[3]))
if ARGV[1] == s.refresh.jti then
  s.previous = { jti = s.refresh.jti, exp = s.refresh.exp, rotatedAt = now }
  s.refresh = cjson.decode(ARGV[2])
  s.access = access
  s.lastRefreshedAt = now
  local out = cjson.encode(s)
  redis.call('SET', KEYS[1], out, 'EX', ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[6], 'GT')
  return {'rotated', out}
end
local p = s.previous
if type(p) == 'table' and ARGV[1] == p.jti and now - p.rotatedAt < tonumber(ARGV[5]) then
  s.access = access
  s.lastRefreshedAt = now
  local out = cjson.encode(s)
  redis.call('SET', KEYS[1], out, 'KEEPTTL')
  return {'grace', out}
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], s.id)
return {'reused', raw}
`

type Outcome = 'missing' | 'rotated' | 'grace' | 'reused'

interface RotatingClient {
  rotateSession (session: string, userSessions: string, ...args: Array<string | number>): Promise<[Outcome, string?]>
}

function parseSession (raw: string): SessionRecord {
  const session = JSON.parse(raw) as SessionRecord
  const access: unknown = session.access
  return { ...session, access: Array.isArray(access) ? access as TokenRef[] : [] }
}

/**
 * Sessions in Redis, shared by every instance. Both keys of a user carry the user id as hash tag, so on Redis
 * Cluster they live in one slot and the rotation script may touch both.
 */
export class RedisSessionStore implements SessionStore {
  readonly #client: Redis & RotatingClient
  readonly #prefix: string

  constructor (client: Redis, prefix: string) {
    client.defineCommand('rotateSession', { numberOfKeys: 2, lua: ROTATE })
    this.#client = client as Redis & RotatingClient
    this.#prefix = prefix
  }

  #sessionKey (userId: string, sessionId: string): string {
    return `${this.#prefix}{${userId}}:session:${sessionId}`
  }

  #userKey (userId: string): string {
    return `${this.#prefix}{${userId}}:sessions`
  }

  async create (session: SessionRecord, ttl: number): Promise<void> {
    await this.#client.multi()
      .set(this.#sessionKey(session.userId, session.id), JSON.stringify(session), 'EX', ttl)
      .sadd(this.#userKey(session.userId), session.id)
      // Every session lives ttl seconds from its last write, so the newest write has the latest expiry.
      .expire(this.#userKey(session.userId), ttl)
      .exec()
  }

  async rotate ({ userId, sessionId, presented, next, now, grace, ttl }: RotateRequest): Promise<RotateResult> {
    const [outcome, raw] = await this.#client.rotateSession(
      this.#sessionKey(userId, sessionId), this.#userKey(userId),
      presented, JSON.stringify(next.refresh), JSON.stringify(next.access), now, grace * 1000, ttl
    )
    if (outcome === 'missing' || raw === undefined) return { outcome: 'missing' }
    return { outcome, session: parseSession(raw) }
  }

  async end (userId: string, sessionId: string): Promise<SessionRecord | undefined> {
    const replies = await this.#client.multi()
      .getdel(this.#sessionKey(userId, sessionId))
      .srem(this.#userKey(userId), sessionId)
      .exec()
    const raw = replies?.[0]?.[1]
    return typeof raw === 'string' ? parseSession(raw) : undefined
  }

  async list (userId: string): Promise<SessionRecord[]> {
    const ids = await this.#client.smembers(this.#userKey(userId))
    if (ids.length === 0) return []
    const values = await this.#client.mget(ids.map((id) => this.#sessionKey(userId, id)))
    // Sessions that expired leave their id behind in the set: drop it now.
    const expired = ids.filter((_id, index) => values[index] === null)
    if (expired.length > 0) await this.#client.srem(this.#userKey(userId), ...expired)
    return values.flatMap((raw) => typeof raw === 'string' ? [parseSession(raw)] : [])
      .sort((a, b) => a.createdAt - b.createdAt)
  }
}
