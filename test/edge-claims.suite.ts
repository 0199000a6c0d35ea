import { createHmac } from 'node:crypto'
import t from 'tap'
import { bearer, buildApp, SECRET } from './helpers/app.js'

const now = (): number => Math.floor(Date.now() / 1000)

t.test('with maxTokenLifetime, a token without exp is good until iat + maxTokenLifetime, never without iat', async (t) => {
  const { app, sign } = await buildApp({ maxTokenLifetime: 600 })
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/me', headers: bearer(app.jwt.sign({ sub: 'u', jti: 'young', iat: now() - 590 })) })).statusCode, 200, 'within its lifetime')
  for (const url of ['/me', '/verified']) {
    const old = await app.inject({ url, headers: bearer(app.jwt.sign({ sub: 'u', jti: 'old', iat: now() - 601 })) })
    t.equal(old.json().code, 'FST_JWT_REVOKE_LIFETIME_EXCEEDED', `${url}: older than maxTokenLifetime: its revocation may have expired, so it is refused`)
    const ageless = await app.inject({ url, headers: bearer(app.jwt.sign({ sub: 'u', jti: 'ageless' }, { noTimestamp: true })) })
    t.equal(ageless.json().code, 'FST_JWT_REVOKE_LIFETIME_EXCEEDED', `${url}: neither exp nor iat: its age is unknown`)
  }
  const overlong = await app.inject({ url: '/me', headers: bearer(sign({ iat: now() - 1000 })) })
  t.equal(overlong.json().code, 'FST_JWT_REVOKE_LIFETIME_EXCEEDED', 'a token with an exp beyond iat + maxTokenLifetime is refused past iat + maxTokenLifetime too: a subject cutoff lives only that long')
  t.equal((await app.inject({ url: '/me', headers: bearer(sign({ iat: now() - 590 })) })).statusCode, 200, 'and accepted within it')
})

function hs256 (payload: object): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url')
  const signed = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`
  return `${signed}.${createHmac('sha256', SECRET).update(signed).digest('base64url')}`
}

t.test('a fractional iat is compared exactly with a subject cutoff', async (t) => {
  const { app } = await buildApp()
  t.teardown(() => app.close())
  const cutoff = await app.revokeSubject('fraction', { before: now() - 10.5 })
  t.equal(cutoff, now() - 10.5, 'the cutoff is kept as given, not rounded')
  // Signed by hand: fast-jwt's signer rounds iat down to whole seconds, other issuers do not (RFC 7519 allows it).
  const token = (iat: number): string => hs256({ sub: 'fraction', jti: `at-${iat}`, iat, exp: now() + 3600 })
  t.equal((await app.inject({ url: '/me', headers: bearer(token(cutoff - 0.001)) })).json().code, 'FST_JWT_REVOKED', 'a millisecond before: refused')
  t.equal((await app.inject({ url: '/me', headers: bearer(token(cutoff)) })).json().code, 'FST_JWT_REVOKED', 'at the cutoff: refused')
  t.equal((await app.inject({ url: '/me', headers: bearer(token(cutoff + 0.001)) })).statusCode, 200, 'a millisecond after: accepted')
  const exact = await app.revokeSubject('fraction-now')
  t.not(exact, Math.floor(exact), 'the default cutoff is now, to the millisecond')
})

t.test('revokeSubject refuses a `before` in milliseconds or far in the future, and stores nothing', async (t) => {
  const { app } = await buildApp({ clockSkew: 60 })
  t.teardown(() => app.close())
  await t.rejects(app.revokeSubject('locked', { before: Date.now() }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', message: /before.*milliseconds/ })
  await t.rejects(app.revokeSubject('locked', { before: now() + 3600 }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', message: /before.*clockSkew \(60 s\) in the future/ })
  await t.rejects(app.revokeSubject('locked', { before: new Date(Date.now() + 86_400_000) }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT' })
  t.equal(app.jwtRevoke.stats().revocations, 0)
  t.equal(await app.revokeSubject('locked', { before: now() + 30 }), now() + 30, 'within clockSkew: accepted (an issuer clock a little ahead)')
})
