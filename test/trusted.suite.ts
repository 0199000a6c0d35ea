import fastifyJwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import jwtRevoke, { trusted } from '../index.js'
import { bearer, SECRET } from './helpers/app.js'

t.test('apps that still pass trusted to @fastify/jwt: the same check, never twice for one token and request', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET, trusted })
  await app.register(jwtRevoke)
  let lookups = 0
  const store = app.jwtRevoke.store
  const isRevoked = store.isRevoked.bind(store)
  store.isRevoked = (claims) => {
    lookups++
    return isRevoked(claims)
  }
  app.get('/verified', async (request) => await request.jwtVerify())
  app.get('/unhooked', { config: { jwtRevoke: false } }, async (request) => await request.jwtVerify())
  t.teardown(() => app.close())

  const token = app.jwt.sign({ sub: 't', jti: 'trusted-1' }, { expiresIn: 60 })
  t.equal((await app.inject({ url: '/verified', headers: bearer(token) })).statusCode, 200)
  t.equal(lookups, 1, 'trusted looked it up; the guard reused that answer')
  t.equal((await app.inject({ url: '/unhooked', headers: bearer(token) })).statusCode, 200)
  t.equal(lookups, 2, 'one lookup per request')

  await app.revoke(token)
  const refused = await app.inject({ url: '/unhooked', headers: bearer(token) })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'FST_JWT_REVOKED')
  t.equal(app.jwtRevoke.stats().refusals, 1)
})
