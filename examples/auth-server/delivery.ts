import type { FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import type { Static } from '@sinclair/typebox'
import type { TokenPair } from './schemas.js'
import type { SignedPair } from './tokens.js'

/** Name of the httpOnly cookie that carries the refresh token when refreshCookie is on. */
export const REFRESH_COOKIE = 'refresh_token'

/**
 * How a token pair reaches the client and how the refresh token comes back: in JSON bodies (default), or with the
 * refresh token in an httpOnly, Secure, SameSite=Strict cookie that page scripts cannot read (an XSS cannot steal
 * it) and that the browser sends only to /auth routes of this site.
 */
export class PairDelivery {
  readonly cookie: boolean
  readonly #accessTtl: number
  readonly #refreshTtl: number

  constructor (options: { cookie: boolean, accessTtl: number, refreshTtl: number }) {
    this.cookie = options.cookie
    this.#accessTtl = options.accessTtl
    this.#refreshTtl = options.refreshTtl
  }

  send (reply: FastifyReply, pair: SignedPair): Static<typeof TokenPair> {
    const body: Static<typeof TokenPair> = { accessToken: pair.accessToken, tokenType: 'Bearer', expiresIn: this.#accessTtl }
    if (!this.cookie) return { ...body, refreshToken: pair.refreshToken }
    reply.setCookie(REFRESH_COOKIE, pair.refreshToken, {
      httpOnly: true, secure: true, sameSite: 'strict', path: '/auth', maxAge: this.#refreshTtl
    })
    return body
  }

  /** The refresh token of the request: from the body, else (cookie mode) from the cookie. */
  read (request: FastifyRequest, fromBody: string | undefined): string | undefined {
    if (fromBody !== undefined || !this.cookie) return fromBody
    return request.cookies[REFRESH_COOKIE]
  }

  clear (reply: FastifyReply): void {
    if (this.cookie) reply.clearCookie(REFRESH_COOKIE, { path: '/auth' })
  }
}

/** preValidation: a request without a body is validated as `{}`, for routes whose body is entirely optional. */
export const bodyOptional: preValidationAsyncHookHandler = async (request) => {
  request.body ??= {}
}
