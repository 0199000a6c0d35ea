// A complete app with revocable tokens: log in, call an authenticated route, log out, log out everywhere.
// In this repository: `npm run example:basic` (in memory; on Redis when REDIS_URL is set).
import { randomUUID, timingSafeEqual } from 'node:crypto'
import fastifyJwt from '@fastify/jwt'
import fastifyRedis from '@fastify/redis'
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import jwtRevoke from 'fastify-jwt-revoke'

// What the tokens carry, so `request.user` is typed everywhere without a cast.
declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string } // what app.jwt.sign() takes (jti, iat and exp are added when signing)
    user: { sub: string, jti: string, iat: number, exp: number } // request.user once a token is verified
  }
}

const secret = process.env.JWT_SECRET
if (secret === undefined) throw new Error('set JWT_SECRET: the key that signs and verifies every token')

// A stand-in for your user database. A real app stores password hashes (see examples/auth-server/passwords.ts).
const users = new Map([['alice', 'correct horse battery']])
function passwordMatches (username: string, password: string): boolean {
  const expected = Buffer.from(users.get(username) ?? '')
  const given = Buffer.from(password)
  return expected.length > 0 && expected.length === given.length && timingSafeEqual(expected, given)
}

const app = Fastify({ logger: true })
await app.register(fastifyJwt, { secret })
// Several instances must share their revocations: give them one Redis. Without REDIS_URL the deny-list is in memory.
if (process.env.REDIS_URL !== undefined) await app.register(fastifyRedis, { url: process.env.REDIS_URL })
// From here on every verification through @fastify/jwt also checks the deny-list: app.authenticate,
// request.jwtVerify() with any options, every namespace, every route. The store is Redis when app.redis exists.
await app.register(jwtRevoke, { maxTokenLifetime: 15 * 60 })

app.post<{ Body: { username: string, password: string } }>('/login', {
  schema: {
    body: {
      type: 'object',
      required: ['username', 'password'],
      properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 256 } }
    }
  }
}, async (request, reply) => {
  const { username, password } = request.body
  if (!passwordMatches(username, password)) return reply.code(401).send({ message: 'Invalid username or password' })
  // Every token needs a jti (a unique id): that is what the deny-list holds.
  return { token: app.jwt.sign({ sub: username }, { jti: randomUUID(), expiresIn: '15m' }) }
})

// app.authenticate answers 401 for a missing, invalid, expired or revoked token.
app.get('/me', { onRequest: [app.authenticate] }, async (request) => {
  return { user: request.user.sub, tokenExpires: new Date(request.user.exp * 1000).toISOString() }
})

app.post('/logout', { onRequest: [app.authenticate] }, async (request, reply) => {
  await request.revokeToken() // this token is refused from now on, by every instance on the same store
  return reply.code(204).send()
})

app.post('/logout-everywhere', { onRequest: [app.authenticate] }, async (request, reply) => {
  // Every token of this user issued up to now is refused; a login after this call resolves gets a working token.
  await app.revokeSubject(request.user.sub)
  return reply.code(204).send()
})

// Ctrl-C or SIGTERM: stop taking connections, let requests in flight finish, close Redis; give up after 10 s.
closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err !== undefined) app.log.error({ err }, 'closing after an error')
  await app.close()
})

await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
