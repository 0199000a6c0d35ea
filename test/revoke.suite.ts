import t from 'tap'
import { bearer, buildApp, storeVariants } from './helpers/app.js'

const variants = await storeVariants(t)

for (const variant of variants) {
  t.test(`${variant.name} store`, async (t) => {
    const { app, sign } = await buildApp(variant.options())
    t.teardown(() => app.close())

    t.test('a revoked token is refused on the very next request; other tokens of the user still work', async (t) => {
      const token = sign()
      const other = sign()
      t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
      await app.revoke(token)
      const refused = await app.inject({ url: '/me', headers: bearer(token) })
      t.equal(refused.statusCode, 401)
      t.equal(refused.json().code, 'FST_JWT_REVOKED')
      t.equal((await app.inject({ url: '/verified', headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', 'request.jwtVerify() refuses it too')
      t.equal((await app.inject({ url: '/public', headers: bearer(token) })).statusCode, 200, 'a route that never verifies a token does not look at it')
      t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 200)
      t.equal(await app.isRevoked(token), true)
      t.equal(await app.isRevoked(other), false)
    })

    t.test('revoking twice is harmless', async (t) => {
      const token = sign()
      await app.revoke(token)
      await app.revoke(token)
      t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    })

    t.test('revoke accepts a verified payload', async (t) => {
      const token = sign()
      await app.revoke(app.jwt.verify(token))
      t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    })

    t.test('logout through request.revokeToken()', async (t) => {
      const token = sign()
      t.equal((await app.inject({ method: 'POST', url: '/logout', headers: bearer(token) })).statusCode, 204)
      t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    })

    t.test('request.revokeToken() without authenticate: it verifies and checks by itself', async (t) => {
      for (const url of ['/logout-raw']) {
        const token = sign()
        t.equal((await app.inject({ method: 'POST', url, headers: bearer(token) })).statusCode, 204, url)
        t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, `${url}: revoked`)
        t.equal((await app.inject({ method: 'POST', url, headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', `${url}: twice`)
      }
      const noJti = await app.inject({ method: 'POST', url: '/logout-raw', headers: bearer(sign({ jti: undefined })) })
      t.equal(noJti.json().code, 'FST_JWT_REVOKE_NO_JTI')
      t.equal((await app.inject({ method: 'POST', url: '/logout-raw' })).json().code, 'FST_JWT_NO_AUTHORIZATION_IN_HEADER')
    })

    t.test('revokeSubject refuses older tokens and accepts one issued after it', async (t) => {
      const old = sign({ sub: 'subject-a' })
      const bystander = sign({ sub: 'subject-b' })
      await app.revokeSubject('subject-a')
      t.equal((await app.inject({ url: '/me', headers: bearer(old) })).statusCode, 401)
      t.equal((await app.inject({ url: '/me', headers: bearer(bystander) })).statusCode, 200)
      const later = sign({ sub: 'subject-a', iat: Math.floor(Date.now() / 1000) + 1 })
      t.equal((await app.inject({ url: '/me', headers: bearer(later) })).statusCode, 200)
      t.equal(await app.isRevoked(old), true)
      t.equal(await app.isRevoked(later), false)
    })

    t.test('revokeSubject with `before` keeps the later of two cutoffs', async (t) => {
      const now = Math.floor(Date.now() / 1000)
      const token = sign({ sub: 'subject-c', iat: now - 100 })
      await app.revokeSubject('subject-c', { before: now - 50 })
      await app.revokeSubject('subject-c', { before: new Date((now - 500) * 1000) })
      t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
      const between = sign({ sub: 'subject-c', iat: now - 10 })
      t.equal((await app.inject({ url: '/me', headers: bearer(between) })).statusCode, 200)
    })

    t.test('routes that verify no token pass any request; authenticate explains failures with @fastify/jwt codes', async (t) => {
      const token = sign()
      await app.revoke(token)
      t.equal((await app.inject({ url: '/public' })).statusCode, 200)
      t.equal((await app.inject({ url: '/public', headers: bearer('not.a.token') })).statusCode, 200)
      const expired = sign({}, { expiresIn: -10 })
      t.equal((await app.inject({ url: '/public', headers: bearer(expired) })).statusCode, 200)
      const refused = await app.inject({ url: '/me', headers: bearer(expired) })
      t.equal(refused.json().code, 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED', 'authenticate explains with @fastify/jwt codes')
      t.equal((await app.inject({ url: '/me' })).json().code, 'FST_JWT_NO_AUTHORIZATION_IN_HEADER')
    })

    t.test('expired tokens are not stored', async (t) => {
      const expired = sign({}, { expiresIn: -120 })
      await app.revoke(expired)
      await app.revoke(app.jwt.decode(expired) as Record<string, unknown>)
      t.equal(await app.isRevoked(expired), false)
    })
  })
}
