import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preValidationAsyncHookHandler } from 'fastify'
import type { Static } from '@sinclair/typebox'
import { CrossSiteRequestError } from './errors.js'
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
  readonly #originCheck: onRequestAsyncHookHandler | undefined
  readonly #accessTtl: number
  readonly #refreshTtl: number

  constructor (options: { cookie: boolean, accessTtl: number, refreshTtl: number, allowedOrigins?: readonly string[] }) {
    this.cookie = options.cookie
    this.#originCheck = options.cookie ? sameOriginOnly(new Set(options.allowedOrigins)) : undefined
    this.#accessTtl = options.accessTtl
    this.#refreshTtl = options.refreshTtl
  }

  /**
   * onRequest hooks of a route that sets or reads the cookie: the same-origin check in cookie mode, else none. A new
   * array each time: @fastify/rate-limit adds its hook to the route's array, which must not be another route's.
   */
  cookieRouteGuards (): onRequestAsyncHookHandler[] {
    return this.#originCheck === undefined ? [] : [this.#originCheck]
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

/**
 * Login CSRF protection of cookie mode: a request whose `Origin` is neither this server's own (scheme and Host) nor one
 * of `allowed` is refused with 403, before anything else runs.
 *
 * Why `Origin`, and not `SameSite=Strict` alone: SameSite stops a browser from *sending* the refresh cookie with a
 * cross-site request, so a forged refresh or logout carries none. But a cross-site form POST to /auth/login is a
 * top-level navigation, and its response *sets* the cookie: the victim's browser would be logged in as the attacker
 * (login CSRF). Browsers send `Origin` with every cross-origin POST (`null` from sandboxed or privacy-stripped
 * contexts, refused too). A request without `Origin` comes from no browser form (curl, another server), carries no
 * victim's cookie and is let through. No CSRF token: it would need a page to hand one out first, and `Origin` is
 * enough for the browsers that honour the cookie's attributes. In JSON mode no check: the pair is in the body, which
 * a cross-site page cannot read.
 */
function sameOriginOnly (allowed: ReadonlySet<string>): onRequestAsyncHookHandler {
  return async (request) => {
    const origin = request.headers.origin
    if (origin === undefined || allowed.has(origin) || origin === `${request.protocol}://${request.host}`) return
    throw new CrossSiteRequestError()
  }
}

/** preValidation: a request without a body is validated as `{}`, for routes whose body is entirely optional. */
export const bodyOptional: preValidationAsyncHookHandler = async (request) => {
  request.body ??= {}
}
