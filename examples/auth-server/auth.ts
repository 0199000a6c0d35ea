import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { InvalidCredentialsError, InvalidRefreshTokenError } from './errors.js'
import type { Passwords } from './passwords.js'
import { liveAccess, type SessionRecord, type SessionStore } from './sessions/store.js'
import type { RefreshPayload, SignedPair, Tokens } from './tokens.js'
import type { User, UserStore } from './users/store.js'

export interface AuthDependencies {
  app: FastifyInstance
  users: UserStore
  sessions: SessionStore
  tokens: Tokens
  passwords: Passwords
  /** refreshReuseGrace, seconds. */
  reuseGrace: number
}

/**
 * What the routes do, without HTTP: sessions, rotation and revocation. Every token, access or refresh, is revoked
 * through the plugin's deny-list (app.revoke, app.revokeSubject), and refused by the verification itself
 * (app.authenticate, request.refreshJwtVerify()). The session store is the one place that records each family's
 * token ids: which refresh token is current, which one it replaced, the live access tokens, all revoked together.
 */
export class Auth {
  readonly #app: FastifyInstance
  readonly #users: UserStore
  readonly #sessions: SessionStore
  readonly #tokens: Tokens
  readonly #passwords: Passwords
  readonly #reuseGrace: number

  constructor (deps: AuthDependencies) {
    this.#app = deps.app
    this.#users = deps.users
    this.#sessions = deps.sessions
    this.#tokens = deps.tokens
    this.#passwords = deps.passwords
    this.#reuseGrace = deps.reuseGrace
  }

  get sessions (): SessionStore {
    return this.#sessions
  }

  get tokens (): Tokens {
    return this.#tokens
  }

  /** The user, when the password is theirs. An unknown name costs one argon2 verification too (no timing oracle). */
  async checkPassword (username: string, password: string): Promise<User> {
    const user = await this.#users.findByName(username)
    const valid = await this.#passwords.verify(user?.passwordHash, password)
    if (!valid || user === undefined) throw new InvalidCredentialsError()
    return user
  }

  /**
   * Logs in: checks the password, starts a session, and hands its pair out only if the user's credentials did not
   * change meanwhile. A password change that ran while this login checked the old password raised credentialVersion:
   * the session just made is ended (its tokens revoked) and the login fails like a wrong password. Checked after the
   * session is stored: a change that raised the version later lists and revokes this session itself.
   */
  async login (username: string, password: string, userAgent: string): Promise<SignedPair> {
    const user = await this.checkPassword(username, password)
    const { session, pair } = await this.#openSession(user, userAgent)
    const now = await this.#users.findById(user.id)
    if (now?.credentialVersion === user.credentialVersion) return pair
    await this.endSession(user.id, session.id)
    throw new InvalidCredentialsError()
  }

  /** Starts a session family and issues its first pair. */
  async startSession (user: User, userAgent: string): Promise<SignedPair> {
    return (await this.#openSession(user, userAgent)).pair
  }

  async #openSession (user: User, userAgent: string): Promise<{ session: SessionRecord, pair: SignedPair }> {
    const now = Date.now()
    const pair = this.#tokens.plan(now)
    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      role: user.role,
      userAgent,
      createdAt: now,
      lastRefreshedAt: now,
      refresh: pair.refresh,
      previous: null,
      access: [pair.access]
    }
    await this.#sessions.create(session, this.#tokens.lifetimes.refresh)
    return { session, pair: this.#tokens.sign(session, pair, now) }
  }

  /**
   * Exchanges a refresh token, verified and checked against the deny-list by request.refreshJwtVerify(), for a new
   * pair (rotation). Any failure is the same 401.
   */
  async refresh (claims: RefreshPayload): Promise<SignedPair> {
    const now = Date.now()
    const next = this.#tokens.plan(now)
    const result = await this.#sessions.rotate({
      userId: claims.sub,
      sessionId: claims.sid,
      presented: claims.jti,
      next,
      now,
      grace: this.#reuseGrace,
      ttl: this.#tokens.lifetimes.refresh
    })
    switch (result.outcome) {
      case 'rotated':
        return this.#tokens.sign(result.session, next, now)
      case 'grace':
        // The other tab already holds the current refresh token: hand the same one out again, with a new access token.
        return this.#tokens.sign(result.session, { access: next.access, refresh: result.session.refresh }, now)
      case 'reused':
        this.#app.log.warn({ sub: claims.sub, sid: claims.sid }, 'auth-server: refresh token reuse, the session family is revoked')
        await this.#revokeFamily(result.session)
        throw new InvalidRefreshTokenError()
      case 'missing':
        throw new InvalidRefreshTokenError()
    }
  }

  /** Ends one session of the user and revokes every token of its family; false when the user has no such session. */
  async endSession (userId: string, sessionId: string): Promise<boolean> {
    const session = await this.#sessions.end(userId, sessionId)
    if (session === undefined) return false
    await this.#revokeFamily(session)
    return true
  }

  /**
   * Logs the user out everywhere: one subject cutoff refuses every token issued up to now, even one no session
   * tracks, and every session is ended. revokeSubject() resolves only once the clock has left the cutoff's second,
   * so a login after this call signs a later iat and is accepted.
   */
  async endAllSessions (userId: string): Promise<void> {
    await this.#app.revokeSubject(userId)
    // The cutoff already refuses their tokens; ending the sessions drops their records and revokes their refresh tokens by jti too.
    const sessions = await this.#sessions.list(userId)
    await Promise.all(sessions.map((session) => this.endSession(userId, session.id)))
  }

  /**
   * Changes the password and logs out every session of the user, as one outcome, then starts a new session for the
   * caller. The new hash is saved first, together with a new credentialVersion, so that a login checking the old
   * password in flight is refused at issuance (see login); then every token issued so far is revoked. If that
   * revocation fails, the old password is put back (unless another change came since) and the error reaches the
   * caller: the owner keeps the password they know and may retry; never a new password with the old sessions alive.
   */
  async changePassword (user: User, newPassword: string, userAgent: string): Promise<SignedPair> {
    const hash = await this.#passwords.hash(newPassword)
    const credentialVersion = await this.#users.setPasswordHash(user.id, hash)
    try {
      await this.endAllSessions(user.id)
    } catch (error) {
      await this.#users.restorePasswordHash(user.id, hash, user.passwordHash)
      throw error
    }
    return await this.startSession({ ...user, credentialVersion }, userAgent)
  }

  async #revokeFamily (session: SessionRecord): Promise<void> {
    const now = Date.now()
    const tokens = [...liveAccess(session.access, now), session.refresh, ...session.previous === null ? [] : [session.previous]]
    await Promise.all(tokens.map(({ jti, exp }) => this.#app.revoke({ jti, exp, sub: session.userId })))
  }
}
