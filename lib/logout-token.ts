import { createDecoder, createVerifier, type Algorithm, type DecodedJwt } from 'fast-jwt'
import buildGetJwks, { type GetJwks } from 'get-jwks'
import { errorMessage } from './deadline.js'

// OpenID Connect Back-Channel Logout 1.0, section 2.6 (Logout Token Validation): everything here runs before anything
// is revoked, and any failure is a LogoutTokenError (the receiver answers 400 with it).

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** The asymmetric algorithms a provider signs with. Never 'none' (2.6 step 3), never an HMAC: the key is public. */
export const DEFAULT_ALGORITHMS: Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

/** A logout token that must be refused: the receiver answers 400 invalid_request with this message. */
export class LogoutTokenError extends Error {
  override name = 'LogoutTokenError'
}

/** What a valid logout token asks for, with the claims needed to remember it. */
export interface LogoutRequest {
  iss: string
  jti: string
  iat: number
  exp: number
  sub?: string | undefined
  sid?: string | undefined
}

export interface LogoutTokenSettings {
  issuer: string
  audience: string | string[]
  /** The provider's JWKS; default: the jwks_uri of `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string | undefined
  algorithms: Algorithm[]
  /** Seconds a logout token may be old (by its iat). */
  maxAge: number
  /** Seconds of clock difference allowed with the provider, on exp and iat. */
  clockTolerance: number
  /** Milliseconds a fetched key is kept (get-jwks's ttl); a token naming an unknown kid fetches the JWKS again. */
  jwksCacheTtl: number
}

// The typ header: logout+jwt (2.4's explicit typing, 'application/' optional per RFC 7515), or the generic 'JWT' that
// older providers send (Keycloak before 25). Any other explicit type is another kind of JWT (an ID or access token) that
// must never be taken for a logout (section 4.1, cross-JWT confusion).
const ACCEPTED_TYP = new Set(['logout+jwt', 'application/logout+jwt', 'jwt'])

/** Where the JWKS is: the configured one, or the one the provider's discovery document names (after checking its issuer). */
async function discoverJwksUri (issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!response.ok) throw new Error(`${url} answered ${response.status}`)
  const metadata = await response.json() as { issuer?: unknown, jwks_uri?: unknown }
  // OpenID Connect Discovery 1.0, 4.3: the document must be the issuer's own.
  if (metadata.issuer !== issuer) throw new Error(`${url} names the issuer ${String(metadata.issuer)}, not ${issuer}`)
  if (typeof metadata.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`)
  return metadata.jwks_uri
}

/** get-jwks reads `<domain>/<jwksPath>`: any JWKS URL is its origin and the rest. */
function jwksLocation (jwksUri: string): { domain: string, jwksPath: string } {
  const url = new URL(jwksUri)
  return { domain: url.origin, jwksPath: (url.pathname + url.search).slice(1) }
}

function stringClaim (payload: Record<string, unknown>, name: string): string | undefined {
  const value = payload[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw new LogoutTokenError(`the "${name}" claim must be a non-empty string`)
  return value
}

/** Section 2.6 steps 5 to 7 (and 2.4's required jti), on a payload whose signature, iss, aud, iat and exp are verified. */
function logoutClaims (payload: Record<string, unknown>): LogoutRequest {
  const events = payload.events
  const event = typeof events === 'object' && events !== null ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new LogoutTokenError(`the "events" claim must hold the member ${BACKCHANNEL_LOGOUT_EVENT} with an object value`)
  }
  if ('nonce' in payload) throw new LogoutTokenError('a logout token must not contain a "nonce" claim')
  const sub = stringClaim(payload, 'sub')
  const sid = stringClaim(payload, 'sid')
  if (sub === undefined && sid === undefined) throw new LogoutTokenError('a logout token must contain a "sub" or a "sid" claim')
  const jti = stringClaim(payload, 'jti')
  if (jti === undefined) throw new LogoutTokenError('a logout token must contain a "jti" claim')
  return { iss: payload.iss as string, jti, iat: payload.iat as number, exp: payload.exp as number, sub, sid }
}

/**
 * Builds the validator of a provider's logout tokens: a function that resolves with what the token asks for, or
 * rejects with a LogoutTokenError. Keys come from the provider's JWKS through get-jwks: cached per kid, fetched again
 * for a kid it has not seen (the provider rotated its keys).
 */
export function logoutTokenValidator (settings: LogoutTokenSettings): (token: string) => Promise<LogoutRequest> {
  let keys: Promise<{ domain: string, fetcher: GetJwks }> | undefined
  const locate = (): Promise<{ domain: string, fetcher: GetJwks }> => {
    // A failed discovery is not kept: the next logout token asks again.
    keys ??= (settings.jwksUri === undefined ? discoverJwksUri(settings.issuer) : Promise.resolve(settings.jwksUri))
      .then((jwksUri) => {
        const { domain, jwksPath } = jwksLocation(jwksUri)
        return { domain, fetcher: buildGetJwks({ ttl: settings.jwksCacheTtl, jwksPath }) }
      })
      .catch((error: unknown) => {
        keys = undefined
        throw error
      })
    return keys
  }
  const keyOf = async ({ header }: DecodedJwt): Promise<string> => {
    const { domain, fetcher } = await locate()
    return await fetcher.getPublicKey({ domain, alg: header.alg as string, kid: header.kid as string })
  }
  const decode = createDecoder({ complete: true })
  const verify = createVerifier({
    key: keyOf,
    algorithms: settings.algorithms,
    allowedIss: settings.issuer,
    allowedAud: settings.audience,
    clockTolerance: settings.clockTolerance * 1000,
    maxAge: settings.maxAge * 1000,
    requiredClaims: ['iss', 'aud', 'iat', 'exp'],
    complete: false,
    cache: false
  })

  return async (token) => {
    let header: Record<string, unknown>
    try {
      header = (decode(token) as DecodedJwt).header as Record<string, unknown>
    } catch (error) {
      throw new LogoutTokenError(`the logout token is not a JWT: ${errorMessage(error)}`)
    }
    const typ = header.typ
    if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYP.has(typ.toLowerCase()))) {
      throw new LogoutTokenError(`the typ header ${JSON.stringify(typ)} is not logout+jwt`)
    }
    if (!settings.algorithms.includes(header.alg as Algorithm)) {
      throw new LogoutTokenError(`the algorithm ${JSON.stringify(header.alg)} is not accepted`)
    }
    let payload: Record<string, unknown>
    try {
      payload = await verify(token) as Record<string, unknown>
    } catch (error) {
      // fast-jwt wraps what the key fetcher threw (no JWKS, an unknown kid, a discovery document of another issuer).
      const cause = (error as { originalError?: unknown }).originalError
      throw new LogoutTokenError(cause === undefined ? errorMessage(error) : `${errorMessage(error)} ${errorMessage(cause)}`)
    }
    // fast-jwt checks that iat is not too old (maxAge); one from the future is checked here.
    if (typeof payload.iat !== 'number' || payload.iat > Date.now() / 1000 + settings.clockTolerance) {
      throw new LogoutTokenError('the "iat" claim is in the future')
    }
    return logoutClaims(payload)
  }
}
