import { createHmac, createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { SECRET } from './app.js'

// Hand-made JWTs: the attacker's tools. Nothing here goes through @fastify/jwt's signer, which would refuse to build
// most of them.

export function base64url (value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** header.payload.signature, each part JSON-encoded then base64url-encoded (a string part is taken as it is). */
export function compact (header: unknown, payload: unknown, signature = ''): string {
  const part = (value: unknown): string => base64url(typeof value === 'string' ? value : JSON.stringify(value))
  return `${part(header)}.${part(payload)}.${signature}`
}

/** An HMAC-signed token: with SECRET it is one the test app itself could have issued. */
export function hmacToken (payload: unknown, secret: string | Buffer = SECRET, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): string {
  const unsigned = compact({ alg, typ: 'JWT' }, payload).slice(0, -1)
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg]
  return `${unsigned}.${createHmac(hash, secret).update(unsigned).digest('base64url')}`
}

/** An RS256 token signed with a private key. */
export function rsaToken (payload: unknown, privateKey: string): string {
  const unsigned = compact({ alg: 'RS256', typ: 'JWT' }, payload).slice(0, -1)
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(privateKey, 'base64url')}`
}

export interface RsaPair { publicKey: string, privateKey: string }

export function rsaPair (): RsaPair {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
  })
}

export function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

/** Claims of a token the test app would accept: sub, a fresh jti, issued now, valid for an hour. */
export function goodClaims (extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds()
  return { sub: 'user-1', jti: randomUUID(), iat: now, exp: now + 3600, ...extra }
}

export interface HostileCase {
  name: string
  /** The Authorization header sent. */
  authorization: string
  /** What the attacker would hand to app.revoke(): the token part of the header. */
  token: string
  /** app.revoke(token) resolves without storing (an expired token), instead of rejecting. */
  revokeIsNoop?: boolean
}

function bearerCase (name: string, token: string, revokeIsNoop = false): HostileCase {
  return { name, authorization: `Bearer ${token}`, token, revokeIsNoop }
}

function signedWith (name: string, claims: Record<string, unknown>): HostileCase {
  return bearerCase(name, hmacToken(goodClaims(claims)))
}

function withoutClaim (name: 'jti'): HostileCase {
  const claims = goodClaims()
  delete claims[name]
  return bearerCase('missing jti (signed)', hmacToken(claims))
}

function junkToken (bytes: number): string {
  const third = Math.ceil(bytes / 4)
  return [third, third, third].map((n) => randomBytes(n).toString('base64url')).join('.')
}

/**
 * Every token form of issue 4 for an app that signs HS256 with SECRET, each one that the app must refuse with a 4xx
 * (on an authenticated route) and that must never enter the deny-list. `rsa` is a key pair the app does not trust.
 */
export function hostileCases (rsa: RsaPair): HostileCase[] {
  const now = nowSeconds()
  const valid = hmacToken(goodClaims())
  const [validHeader, , validSignature] = valid.split('.') as [string, string, string]
  return [
    { name: 'empty Authorization header', authorization: '', token: '' },
    { name: 'Bearer without a token', authorization: 'Bearer', token: '' },
    bearerCase('Bearer and spaces only', '  '),
    { name: 'Bearer with two tokens', authorization: `Bearer ${valid} ${valid}`, token: `${valid} ${valid}` },
    { name: 'another scheme', authorization: `Basic ${valid}`, token: `Basic ${valid}` },
    bearerCase('garbage base64', '%%%not*base64!!!'),
    bearerCase('three parts of junk', 'abc.def.ghi'),
    bearerCase('three parts of random base64url', junkToken(96)),
    bearerCase('a 10 KB junk token', junkToken(10 * 1024)),
    bearerCase('a 1 MB junk token', junkToken(1024 * 1024)),
    bearerCase('four parts', `${valid}.${validSignature}`),
    bearerCase('header that is not JSON', `${base64url('{not json')}.${valid.split('.')[1] ?? ''}.${validSignature}`),
    bearerCase('alg none, no signature', compact({ alg: 'none', typ: 'JWT' }, goodClaims())),
    bearerCase('alg none with a signature', compact({ alg: 'none', typ: 'JWT' }, goodClaims(), validSignature)),
    bearerCase('alg NONE', compact({ alg: 'NONE', typ: 'JWT' }, goodClaims())),
    bearerCase('wrong secret', hmacToken(goodClaims(), 'not-the-secret-of-this-application-at-all')),
    bearerCase('wrong signature', `${valid.slice(0, -4)}${validSignature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`),
    bearerCase('payload swapped under a valid signature', `${validHeader}.${base64url(JSON.stringify(goodClaims({ sub: 'admin' })))}.${validSignature}`),
    bearerCase('signature with characters outside base64url', `${validHeader}.${valid.split('.')[1] ?? ''}.${validSignature}+/=`),
    bearerCase('signature stripped', `${validHeader}.${valid.split('.')[1] ?? ''}.`),
    bearerCase('RS256 from a key the app does not trust', rsaToken(goodClaims(), rsa.privateKey)),
    signedWith('nbf in the future (signed)', { nbf: now + 3600 }),
    bearerCase('expired (signed)', hmacToken(goodClaims({ iat: now - 7200, exp: now - 3600 })), true),
    withoutClaim('jti'),
    signedWith('numeric jti (signed)', { jti: 42 }),
    signedWith('object jti (signed)', { jti: { $ne: null } }),
    signedWith('array jti (signed)', { jti: ['a', 'b'] }),
    signedWith('empty jti (signed)', { jti: '' }),
    signedWith('null jti (signed)', { jti: null }),
    signedWith('boolean jti (signed)', { jti: true }),
    signedWith('numeric sub (signed)', { sub: 7 }),
    signedWith('object sub (signed)', { sub: { '*': 1 } }),
    signedWith('string iat (signed)', { iat: 'yesterday' }),
    signedWith('string exp (signed)', { exp: 'never' }),
    bearerCase('payload is an array (signed)', hmacToken([goodClaims()])),
    bearerCase('payload is a string (signed)', hmacToken('a string')),
    bearerCase('payload is null (signed)', hmacToken(null))
  ]
}

/** Tokens a trusting-the-header verifier would accept: HS256 signed with an RS public key (the app's own). */
export function algorithmConfusionCases (rsa: RsaPair): HostileCase[] {
  return [
    bearerCase('HS256 signed with the RS public key as secret', hmacToken(goodClaims(), rsa.publicKey)),
    bearerCase('HS512 signed with the RS public key as secret', hmacToken(goodClaims(), rsa.publicKey, 'HS512')),
    bearerCase('alg none, RS app', compact({ alg: 'none', typ: 'JWT' }, goodClaims())),
    bearerCase('HS256 signed with the RS private key as secret', hmacToken(goodClaims(), rsa.privateKey))
  ]
}
