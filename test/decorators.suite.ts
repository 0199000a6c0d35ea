import { randomUUID } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import t from 'tap'
import jwtRevoke, { fastifyJwtRevoke, type JwtRevokeOptions } from '../index.js'
import { bearer, SECRET } from './helpers/app.js'

// The decorators option, and the names checked before anything is added: an app that already has an `authenticate`
// (as @fastify/jwt's README teaches) keeps it.

async function jwtApp (): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  return app
}

/** The authenticate @fastify/jwt's README shows: its own answer on failure. */
async function readmeAuthenticate (request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    await request.jwtVerify()
  } catch (error) {
    reply.code(401).send({ own: true, code: (error as { code?: string }).code })
  }
}

const sign = (app: FastifyInstance): string => app.jwt.sign({ sub: 'decorated', jti: randomUUID() }, { expiresIn: 3600 })

t.test('an app with its own authenticate: a clear error naming the option, and nothing added', async (t) => {
  const app = await jwtApp()
  app.decorate('authenticate', readmeAuthenticate)
  await t.rejects(async () => { await app.register(jwtRevoke) }, {
    code: 'FST_JWT_REVOKE_DECORATOR_EXISTS',
    statusCode: 500,
    message: /"authenticate".*decorators: \{ authenticate: 'otherName' \}.*decorators: \{ authenticate: false \}/
  })
  t.notOk(app.hasDecorator('jwtRevoke'), 'no decorator was added')
  t.notOk(app.hasDecorator('revoke'))
  await app.close()
})

t.test('decorators: { authenticate: false } keeps the app\'s own, and revocation still applies through it', async (t) => {
  const app = await jwtApp()
  app.decorate('authenticate', readmeAuthenticate)
  await app.register(jwtRevoke, { decorators: { authenticate: false } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  t.teardown(() => app.close())
  const token = sign(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await app.revoke(token)
  t.same((await app.inject({ url: '/me', headers: bearer(token) })).json(), { own: true, code: 'FST_JWT_REVOKED' }, "the app's handler answers, with the plugin's refusal")
})

t.test('decorators rename the plugin\'s: authenticate, revoke, revokeSubject, isRevoked and revokeToken', async (t) => {
  const app = await jwtApp()
  app.decorate('authenticate', readmeAuthenticate)
  const names = { authenticate: 'checkToken', revoke: 'revokeJwt', revokeSubject: 'revokeUser', isRevoked: 'isJwtRevoked', revokeToken: 'logout' }
  await app.register(jwtRevoke, { decorators: names })
  const decorated = app as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
  app.get('/me', { onRequest: decorated.checkToken as FastifyInstance['authenticate'] }, async (request) => request.user)
  app.post('/logout', { onRequest: decorated.checkToken as FastifyInstance['authenticate'] }, async (request, reply) => {
    await (request as unknown as { logout: () => Promise<void> }).logout()
    return reply.code(204).send()
  })
  t.teardown(() => app.close())
  t.equal(app.authenticate, readmeAuthenticate, "the app's authenticate is untouched")
  for (const name of ['revoke', 'revokeSubject', 'isRevoked']) t.notOk(app.hasDecorator(name), `no ${name}`)
  t.notOk(app.hasRequestDecorator('revokeToken'), 'no request.revokeToken')
  const token = sign(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/logout', headers: bearer(token) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_REVOKED', 'request.logout() revoked it')
  t.equal(await decorated.isJwtRevoked?.(token), true)
  const other = sign(app)
  await decorated.revokeJwt?.(other)
  t.equal((await app.inject({ url: '/me', headers: bearer(other) })).json().code, 'FST_JWT_REVOKED')
  t.type(await decorated.revokeUser?.('decorated'), 'number')
})

t.test('every name is checked, request decorators and the plugin\'s own too', async (t) => {
  const cases: Array<{ name: string, setup: (app: FastifyInstance) => Promise<unknown>, options?: JwtRevokeOptions, message: RegExp }> = [
    { name: 'a request decorator revokeToken', setup: async (app) => (app as unknown as { decorateRequest: (name: string, value: null) => void }).decorateRequest('revokeToken', null), message: /"revokeToken".*request decorator.*decorators: \{ revokeToken: false \}/ },
    { name: 'an instance decorator revoke', setup: async (app) => (app as unknown as { decorate: (name: string, value: null) => void }).decorate('revoke', null), message: /"revoke".*instance decorator.*decorators: \{ revoke: 'otherName' \}/ },
    { name: 'a renamed one that is taken', setup: async (app) => app.decorate('checkToken', null), options: { decorators: { authenticate: 'checkToken' } }, message: /"checkToken".*decorators: \{ authenticate: false \}/ },
    { name: 'two of them given the same name', setup: async () => {}, options: { decorators: { revoke: 'same', isRevoked: 'same' } }, message: /"same".*decorators: \{ isRevoked/ },
    { name: 'the plugin twice in one context', setup: async (app) => await app.register(jwtRevoke), message: /"jwtRevoke".*registered once per context/ }
  ]
  for (const { name, setup, options, message } of cases) {
    const app = await jwtApp()
    await setup(app)
    await t.rejects(async () => { await app.register(jwtRevoke, options ?? {}) }, { code: 'FST_JWT_REVOKE_DECORATOR_EXISTS', message }, name)
    await app.close()
  }
})

t.test('a decorators option that is not a name or false is refused, naming it', async (t) => {
  for (const decorators of [{ authenticate: '' }, { authenticate: true }, { authenticat: false }]) {
    const app = await jwtApp()
    await t.rejects(async () => { await app.register(jwtRevoke, { decorators } as unknown as JwtRevokeOptions) }, { code: 'FST_JWT_REVOKE_INVALID_OPTION', message: /"decorators/ }, JSON.stringify(decorators))
    await app.close()
  }
})

// From CommonJS (lib/require.cjs): test/package.test.ts requires the packed package and finds .default and the name.
t.test('the plugin is the default export and the named fastifyJwtRevoke', async (t) => {
  t.equal(fastifyJwtRevoke, jwtRevoke)
})
