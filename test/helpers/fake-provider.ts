import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { createSigner, type Algorithm, type JwtHeader } from 'fast-jwt'
import Fastify from 'fastify'
import { BACKCHANNEL_LOGOUT_EVENT } from '../../lib/logout-token.js'

/** A signing key of the fake provider: its kid, its algorithm and its private half. */
export interface ProviderKey {
  kid: string
  alg: Algorithm
  privateKey: KeyObject
  publicJwk: Record<string, unknown>
}

export function makeKey (kid: string, alg: 'RS256' | 'ES256'): ProviderKey {
  const { privateKey, publicKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid, alg, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } }
}

/**
 * A stand-in OpenID Provider on loopback: its discovery document and its JWKS (which a test may change, to rotate keys),
 * counting how often each is fetched. It signs logout tokens and access tokens with any key, served or not.
 */
export interface FakeProvider {
  issuer: string
  /** Where the discovery document says the JWKS is ('' leaves jwks_uri out). */
  jwksUri: string
  /** The keys the JWKS serves. */
  served: ProviderKey[]
  fetches: { discovery: number, jwks: number }
  /** The issuer the discovery document claims (default: the real one). */
  discoveryIssuer: string | undefined
  sign (payload: Record<string, unknown>, options?: { key?: ProviderKey, typ?: string | null, alg?: Algorithm, expiresIn?: number }): string
  /** A valid logout token for the audience, with these claims changed (undefined removes one). */
  logoutToken (claims: Record<string, unknown>, options?: { key?: ProviderKey, typ?: string | null, expiresIn?: number }): string
  close (): Promise<void>
}

export async function startFakeProvider (audience: string): Promise<FakeProvider> {
  const app = Fastify()
  app.get('/.well-known/openid-configuration', async () => {
    provider.fetches.discovery++
    return { issuer: provider.discoveryIssuer ?? issuer, jwks_uri: provider.jwksUri === '' ? undefined : provider.jwksUri }
  })
  app.get('/keys/jwks.json', async () => {
    provider.fetches.jwks++
    return { keys: provider.served.map((key) => key.publicJwk) }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address() as { port: number }
  const issuer = `http://127.0.0.1:${address.port}`
  const provider: FakeProvider = {
    issuer,
    jwksUri: `${issuer}/keys/jwks.json`,
    served: [makeKey('rsa-1', 'RS256'), makeKey('ec-1', 'ES256')],
    fetches: { discovery: 0, jwks: 0 },
    discoveryIssuer: undefined,
    sign (payload, { key = provider.served[0] as ProviderKey, typ = 'logout+jwt', alg = key.alg, expiresIn = 120 } = {}) {
      const signer = createSigner({
        key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        algorithm: alg,
        kid: key.kid,
        expiresIn: expiresIn * 1000,
        // typ null: no typ header at all (fast-jwt writes 'JWT' unless told otherwise).
        header: { alg, typ: typ ?? undefined } as JwtHeader
      })
      return signer(payload)
    },
    logoutToken (claims, options) {
      const payload: Record<string, unknown> = {
        iss: issuer,
        aud: audience,
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
        sub: 'user-1',
        sid: 'session-1',
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
        ...claims
      }
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
      return provider.sign(payload, options)
    },
    close: () => app.close()
  }
  return provider
}
