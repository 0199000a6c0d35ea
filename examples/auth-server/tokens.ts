import { randomUUID } from 'node:crypto'
import type { JWT } from '@fastify/jwt'
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { SessionRecord, TokenRef } from './sessions/store.js'

// Access and refresh tokens are signed with two keys, by two @fastify/jwt registrations (app.ts): a token of one kind
// never verifies as the other, so no claim has to tell them apart.
const Common = {
  sub: Type.String(),
  /** The session family the token belongs to. */
  sid: Type.String(),
  jti: Type.String(),
  iat: Type.Number(),
  exp: Type.Number()
}

// The admin guard reads the role from the verified token, never from the request: only the server can sign it.
const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')])
const AccessClaims = Type.Object({ ...Common, role: Role })
const RefreshClaims = Type.Object(Common)
export type AccessPayload = Static<typeof AccessClaims>
export type RefreshPayload = Static<typeof RefreshClaims>
const isAccess = TypeCompiler.Compile(AccessClaims)
const isRefresh = TypeCompiler.Compile(RefreshClaims)

export interface TokenLifetimes {
  /** Seconds. */
  access: number
  refresh: number
}

export interface SignedPair {
  accessToken: string
  refreshToken: string
}

/** The ids and expiries of a pair about to be issued: the session store records them before anything is signed. */
export interface PlannedPair {
  access: TokenRef
  refresh: TokenRef
}

/** What a token string turned out to be, by the key whose signature it carries. */
export type IdentifiedToken =
  | { kind: 'access', claims: AccessPayload }
  | { kind: 'refresh', claims: RefreshPayload }
  /** Signed with one of the keys, with claims of neither kind. */
  | { kind: 'unsupported' }
  /** Garbage, a forgery, or expired. */
  | { kind: 'invalid' }

function seconds (ms: number): number {
  return Math.floor(ms / 1000)
}

/** Signs the example's two token kinds, each with its own @fastify/jwt registration. */
export class Tokens {
  readonly #access: JWT
  readonly #refresh: JWT
  readonly lifetimes: TokenLifetimes

  constructor (keys: { access: JWT, refresh: JWT }, lifetimes: TokenLifetimes) {
    this.#access = keys.access
    this.#refresh = keys.refresh
    this.lifetimes = lifetimes
  }

  plan (nowMs: number): PlannedPair {
    const now = seconds(nowMs)
    return {
      access: { jti: randomUUID(), exp: now + this.lifetimes.access },
      refresh: { jti: randomUUID(), exp: now + this.lifetimes.refresh }
    }
  }

  /** Signs the planned pair for the session. */
  sign (session: SessionRecord, pair: PlannedPair, nowMs: number): SignedPair {
    const common = { sub: session.userId, sid: session.id, iat: seconds(nowMs) }
    return {
      accessToken: this.#access.sign({ ...common, role: session.role, jti: pair.access.jti, exp: pair.access.exp }),
      refreshToken: this.#refresh.sign({ ...common, jti: pair.refresh.jti, exp: pair.refresh.exp })
    }
  }

  /**
   * Which kind of token this app signed the string as, by the key that verifies it. A pure signature check, not
   * guarded by the deny-list:
   * for /oauth/revoke, which must answer alike for revoked and live tokens. Requests verify through @fastify/jwt.
   */
  identify (token: string): IdentifiedToken {
    const access = verified(this.#access, token)
    if (access !== undefined) return isAccess.Check(access) ? { kind: 'access', claims: access } : { kind: 'unsupported' }
    const refresh = verified(this.#refresh, token)
    if (refresh === undefined) return { kind: 'invalid' }
    return isRefresh.Check(refresh) ? { kind: 'refresh', claims: refresh } : { kind: 'unsupported' }
  }
}

function verified (jwt: JWT, token: string): unknown {
  try {
    return jwt.verify(token)
  } catch {
    return undefined
  }
}

/** Narrows an already verified payload (request.user) to access-token claims. */
export function asAccessClaims (payload: unknown): AccessPayload | undefined {
  return isAccess.Check(payload) ? payload : undefined
}

/** Narrows a payload verified by the refresh registration to refresh-token claims. */
export function asRefreshClaims (payload: unknown): RefreshPayload | undefined {
  return isRefresh.Check(payload) ? payload : undefined
}
