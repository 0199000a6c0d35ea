import { randomUUID } from 'node:crypto'
import type { JWT } from '@fastify/jwt'
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { SessionRecord, TokenRef } from './sessions/store.js'

// Both token types are signed with the same key, so the `typ` claim is what tells them apart: every route checks it,
// and a refresh token presented as an access token (or the other way round) is a 401.
const claims = <T extends 'access' | 'refresh'>(typ: T) => Type.Object({
  typ: Type.Literal(typ),
  sub: Type.String(),
  /** The session family the token belongs to. */
  sid: Type.String(),
  jti: Type.String(),
  iat: Type.Number(),
  exp: Type.Number()
})

// The admin guard reads the role from the verified token, never from the request: only the server can sign it.
const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')])
const AccessClaims = Type.Composite([claims('access'), Type.Object({ role: Role })])
const RefreshClaims = claims('refresh')
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

function seconds (ms: number): number {
  return Math.floor(ms / 1000)
}

/** Signs and reads the example's two token types. */
export class Tokens {
  readonly #jwt: JWT
  readonly lifetimes: TokenLifetimes

  constructor (jwt: JWT, lifetimes: TokenLifetimes) {
    this.#jwt = jwt
    this.lifetimes = lifetimes
  }

  plan (nowMs: number): PlannedPair {
    const now = seconds(nowMs)
    return {
      access: { jti: randomUUID(), exp: now + this.lifetimes.access },
      refresh: { jti: randomUUID(), exp: now + this.lifetimes.refresh }
    }
  }

  /**
   * Signs the planned pair for the session. iat is raised to the session's floor: a session started right after a
   * revokeSubject (logout-all, password change) in the same second would otherwise be refused by that cutoff.
   */
  sign (session: SessionRecord, pair: PlannedPair, nowMs: number): SignedPair {
    const iat = Math.max(seconds(nowMs), session.iatFloor)
    const common = { sub: session.userId, sid: session.id, iat }
    return {
      accessToken: this.#jwt.sign({ ...common, typ: 'access', role: session.role, jti: pair.access.jti, exp: pair.access.exp }),
      refreshToken: this.#jwt.sign({ ...common, typ: 'refresh', jti: pair.refresh.jti, exp: pair.refresh.exp })
    }
  }

  /** The verified payload of a token this app signed, or undefined for garbage, a forgery or an expired token. */
  verify (token: string): Record<string, unknown> | undefined {
    try {
      const payload: unknown = this.#jwt.verify(token)
      return typeof payload === 'object' && payload !== null ? payload as Record<string, unknown> : undefined
    } catch {
      return undefined
    }
  }

  /** The claims of a valid refresh token; undefined for anything else, an access token included. */
  verifyRefresh (token: string): RefreshPayload | undefined {
    const payload = this.verify(token)
    return isRefresh.Check(payload) ? payload : undefined
  }
}

/** Narrows an already verified payload (request.user) to access-token claims. */
export function asAccessClaims (payload: unknown): AccessPayload | undefined {
  return isAccess.Check(payload) ? payload : undefined
}
