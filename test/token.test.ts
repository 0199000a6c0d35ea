import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import jwtRevoke from '../index.js'
import { bearer, buildApp, SECRET } from './helpers/app.js'

t.test('tokens from @fastify/jwt cookies, signed and unsigned', async (t) => {
  for (const signed of [false, true]) {
    const app = Fastify()
    await app.register(fastifyCookie, { secret: 'cookie-secret' })
    await app.register(fastifyJwt, { secret: SECRET, cookie: { cookieName: 'token', signed } })
    await app.register(jwtRevoke)
    app.get('/public', async () => ({ ok: true }))
    await app.ready()
    const token = app.jwt.sign({ sub: 'c', jti: `cookie-${signed}` }, { expiresIn: 60 })
    const cookie = signed ? app.signCookie(token) : token
    await app.revoke(token)
    const refused = await app.inject({ url: '/public', cookies: { token: cookie } })
    t.equal(refused.statusCode, 401, `signed=${signed}: revoked cookie token refused`)
    t.equal((await app.inject({ url: '/public', cookies: { other: 'x' } })).statusCode, 200)
    t.equal((await app.inject({ url: '/public' })).statusCode, 200)
    if (signed) t.equal((await app.inject({ url: '/public', cookies: { token: 'tampered' } })).statusCode, 200, 'a badly signed cookie is left to the route')
    await app.close()
  }
})

t.test('a cookie name configured without @fastify/cookie registered is ignored by the hook', async (t) => {
  const { app } = await buildApp({}, { cookie: { cookieName: 'token', signed: false } })
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/public', headers: { cookie: 'token=abc' } })).statusCode, 200)
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
  t.equal((await custom.app.inject({ url: '/public', headers: { 'x-token': token } })).statusCode, 401)
  t.equal((await custom.app.inject({ url: '/public', headers: { 'x-token': 'throw' } })).statusCode, 200)
  t.equal((await custom.app.inject({ url: '/public', headers: bearer(token) })).statusCode, 200, 'Bearer is not read')

  const cookieOnly = await buildApp({}, { verify: { onlyCookie: true } })
  t.teardown(() => cookieOnly.app.close())
  const other = cookieOnly.sign()
  await cookieOnly.app.revoke(other)
  t.equal((await cookieOnly.app.inject({ url: '/public', headers: bearer(other) })).statusCode, 200)
})

t.test('Authorization headers that are not one clean Bearer token pass the hook', async (t) => {
  const { app, sign } = await buildApp()
  t.teardown(() => app.close())
  const token = sign()
  await app.revoke(token)
  for (const authorization of ['Bearer', 'Bearer ', `Bearer ${token} extra`, `Basic ${token}`, `Bearer  ${token}`]) {
    t.equal((await app.inject({ url: '/public', headers: { authorization } })).statusCode, 200, JSON.stringify(authorization.slice(0, 12)))
  }
  t.equal((await app.inject({ url: '/public', headers: { authorization: `bearer ${token}` } })).statusCode, 401, 'the scheme is case-insensitive')
})
