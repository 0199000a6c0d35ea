import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import jwtRevoke from '../index.js'
import { bearer, buildApp, SECRET } from './helpers/app.js'

// The token @fastify/jwt finds (its cookie, signed or not; extractToken; onlyCookie; the Authorization header's
// forms) is the one app.authenticate checks, with @fastify/jwt's own error codes when there is none.

t.test('tokens from @fastify/jwt cookies, signed and unsigned', async (t) => {
  for (const signed of [false, true]) {
    const app = Fastify()
    await app.register(fastifyCookie, { secret: 'cookie-secret' })
    await app.register(fastifyJwt, { secret: SECRET, cookie: { cookieName: 'token', signed } })
    await app.register(jwtRevoke)
    app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
    await app.ready()
    const token = app.jwt.sign({ sub: 'c', jti: `cookie-${signed}` }, { expiresIn: 60 })
    const live = app.jwt.sign({ sub: 'c', jti: `cookie-live-${signed}` }, { expiresIn: 60 })
    const cookieOf = (value: string): string => signed ? app.signCookie(value) : value
    await app.revoke(token)
    const refused = await app.inject({ url: '/me', cookies: { token: cookieOf(token) } })
    t.equal(refused.json().code, 'FST_JWT_REVOKED', `signed=${signed}: revoked cookie token refused`)
    t.equal((await app.inject({ url: '/me', cookies: { token: cookieOf(live) } })).statusCode, 200, `signed=${signed}: live cookie token accepted`)
    t.equal((await app.inject({ url: '/me', cookies: { other: 'x' } })).json().code, 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE')
    if (signed) t.equal((await app.inject({ url: '/me', cookies: { token: 'tampered' } })).json().code, 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE', 'a badly signed cookie is explained by @fastify/jwt')
    await app.close()
  }
})

t.test('a cookie name configured without @fastify/cookie registered: @fastify/jwt explains', async (t) => {
  const { app } = await buildApp({}, { cookie: { cookieName: 'token', signed: false } })
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/me', headers: { cookie: 'token=abc' } })).json().code, 'FST_JWT_BAD_COOKIE_REQUEST')
})

t.test('the extractToken and onlyCookie options of @fastify/jwt are honoured', async (t) => {
  const custom = await buildApp({}, {
    verify: {
      extractToken: (request) => {
        const value = request.headers['x-token']
        if (value === 'throw') throw new Error('bad header')
        return typeof value === 'string' ? value : undefined
      }
    }
  })
  t.teardown(() => custom.app.close())
  const token = custom.sign()
  await custom.app.revoke(token)
  t.equal((await custom.app.inject({ url: '/me', headers: { 'x-token': token } })).json().code, 'FST_JWT_REVOKED')
  t.equal((await custom.app.inject({ url: '/me', headers: { 'x-token': custom.sign() } })).statusCode, 200)
  t.equal((await custom.app.inject({ url: '/me', headers: { 'x-token': 'throw' } })).statusCode, 500, "extractToken's own error is @fastify/jwt's to pass on")
  t.equal((await custom.app.inject({ url: '/me', headers: bearer(custom.sign()) })).json().code, 'FST_JWT_BAD_REQUEST', 'Bearer is not read')

  const cookieOnly = await buildApp({}, { verify: { onlyCookie: true } })
  t.teardown(() => cookieOnly.app.close())
  t.equal((await cookieOnly.app.inject({ url: '/me', headers: bearer(cookieOnly.sign()) })).json().code, 'FST_JWT_NO_AUTHORIZATION_IN_HEADER', 'the header is not read')
})

t.test('Authorization headers that are not one clean Bearer token are refused with @fastify/jwt codes', async (t) => {
  const { app, sign } = await buildApp()
  t.teardown(() => app.close())
  const token = sign()
  await app.revoke(token)
  // @fastify/jwt alone, for its own answer: before 10.2.8 it answers "Bearer " with 500 ERR_ASSERTION by itself (the
  // peer matrix runs this with the oldest version accepted), and the plugin must not change that either.
  const plain = Fastify()
  t.teardown(() => plain.close())
  await plain.register(fastifyJwt, { secret: SECRET })
  plain.get('/me', async (request) => await request.jwtVerify())
  for (const authorization of ['Bearer', 'Bearer ', `Bearer ${token} extra`, `Basic ${token}`, `Bearer  ${token}`]) {
    const response = await app.inject({ url: '/me', headers: { authorization } })
    const alone = await plain.inject({ url: '/me', headers: { authorization } })
    const refused = response.statusCode === 400 || response.statusCode === 401 || (alone.statusCode >= 500 && response.statusCode === alone.statusCode)
    t.ok(refused, `${JSON.stringify(authorization.slice(0, 12))}: ${response.statusCode} ${response.json().code as string}`)
  }
  t.equal((await app.inject({ url: '/me', headers: { authorization: `bearer ${token}` } })).json().code, 'FST_JWT_REVOKED', 'the scheme is case-insensitive')
})
