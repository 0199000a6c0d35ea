import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyRequest } from 'fastify'
import t from 'tap'
import jwtRevoke from '../index.js'
import { bearer, SECRET } from './helpers/app.js'

t.test('the check runs first on every route registered after the plugin, whatever its own hooks', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET, decoratorName: 'principal' })
  await app.register(jwtRevoke)
  const seen: string[] = []
  const own = async (request: FastifyRequest): Promise<void> => { seen.push(request.url) }
  app.get('/single', { onRequest: own }, async () => 'ok')
  app.get('/list', { onRequest: [own] }, async () => 'ok')
  const shared = [own]
  app.get('/shared-a', { onRequest: shared }, async () => 'ok')
  app.get('/shared-b', { onRequest: shared }, async () => 'ok')
  app.get('/who', { onRequest: app.authenticate }, async (request) => (request as unknown as { principal: unknown }).principal)
  t.teardown(() => app.close())

  const token = app.jwt.sign({ sub: 's', jti: 'routes-1' }, { expiresIn: 60 })
  t.equal((await app.inject({ url: '/who', headers: bearer(token) })).json().jti, 'routes-1', 'authenticate honours decoratorName')
  await app.revoke(token)
  for (const url of ['/single', '/list', '/shared-a', '/shared-b']) {
    t.equal((await app.inject({ url, headers: bearer(token) })).statusCode, 401, url)
    t.equal((await app.inject({ method: 'HEAD', url, headers: bearer(token) })).statusCode, 401, `HEAD ${url}`)
  }
  t.same(seen, [], 'the route\'s own hooks never ran for a revoked token')
  t.equal(shared.length, 1, 'a hook array shared by routes is not mutated')
  t.equal(app.jwtRevoke.stats().refusals, 8, 'one lookup per request, HEAD included, never two')
})
