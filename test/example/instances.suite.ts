import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { cli } from '../helpers/cli-run.js'
import { buildExample, newName, PASSWORD, uniquePrefix, variants, type Pair } from '../helpers/example-app.js'

// Two instances of the example on one real Redis, over real HTTP: whatever one instance created, the other serves.

type Http = (path: string, init?: { token?: string, body?: object }) => Promise<Response>

async function listen (app: FastifyInstance): Promise<Http> {
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return (path, { token, body } = {}) => fetch(`${base}${path}`, {
    method: body === undefined && !path.includes('logout') ? 'GET' : 'POST',
    headers: {
      ...body === undefined ? {} : { 'content-type': 'application/json' },
      ...token === undefined ? {} : { authorization: `Bearer ${token}` }
    },
    ...body === undefined ? {} : { body: JSON.stringify(body) }
  })
}

async function pair (reply: Promise<Response>): Promise<Pair> {
  const response = await reply
  if (response.status !== 200) throw new Error(`expected a token pair, got ${response.status} ${await response.text()}`)
  return await response.json() as Pair
}

const redis = (await variants(t)).find((variant) => variant.name === 'redis')
if (redis === undefined) throw new Error('no redis variant')

t.test('two instances on one Redis serve every user, whichever instance registered it', async (t) => {
  // One deployment: the same key prefix (and the same secret, which buildExample gives every app).
  const keyPrefix = uniquePrefix()
  const a = await listen(await buildExample(t, redis, { keyPrefix }))
  const b = await listen(await buildExample(t, redis, { keyPrefix }))
  const alice = newName()
  const credentials = { username: alice, password: PASSWORD }

  t.equal((await a('/auth/register', { body: credentials })).status, 201, 'registered on A')
  t.equal((await b('/auth/register', { body: { ...credentials, username: alice.toUpperCase() } })).status, 409,
    'the name is taken on B too, in any letter case')

  const fromB = await pair(b('/auth/login', { body: credentials }))
  const me = await a('/me', { token: fromB.accessToken })
  t.equal(me.status, 200, 'a token from B is served by A')
  t.match(await me.json(), { username: alice })
  t.equal((await b('/me', { token: (await pair(a('/auth/login', { body: credentials }))).accessToken })).status, 200)

  // A password change on B, for a session started on A.
  const fromA = await pair(a('/auth/login', { body: credentials }))
  const changed = await b('/auth/password', { token: fromA.accessToken, body: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' } })
  t.equal(changed.status, 200, 'B changes the password of a user registered on A')
  const current = await changed.json() as Pair
  t.equal((await a('/me', { token: fromA.accessToken })).status, 401, 'the old session is refused on A')
  t.equal((await a('/me', { token: current.accessToken })).status, 200, 'the new pair works on A, in the same second too')
  t.equal((await a('/auth/login', { body: credentials })).status, 401, 'A refuses the old password')
  t.equal((await a('/auth/login', { body: { ...credentials, password: 'a brand new passphrase' } })).status, 200, 'A knows the new one')
})

t.test('the admin, the first user of the deployment (FIRST_USER_IS_ADMIN), acts on users of the other instance', async (t) => {
  const keyPrefix = uniquePrefix()
  const a = await listen(await buildExample(t, redis, { keyPrefix, firstUserIsAdmin: true }))
  const b = await listen(await buildExample(t, redis, { keyPrefix, firstUserIsAdmin: true }))
  const admin = newName()
  const bob = newName()
  t.equal((await a('/auth/register', { body: { username: admin, password: PASSWORD } })).status, 201)
  t.equal((await b('/auth/register', { body: { username: bob, password: PASSWORD } })).status, 201)
  const adminPair = await pair(b('/auth/login', { body: { username: admin, password: PASSWORD } }))
  const bobPair = await pair(b('/auth/login', { body: { username: bob, password: PASSWORD } }))
  t.equal((await b(`/admin/users/${admin}/logout`, { token: bobPair.accessToken })).status, 403, 'the second user is no admin')
  t.equal((await a(`/admin/users/${bob}/logout`, { token: adminPair.accessToken })).status, 204, 'A logs out a user of B')
  t.equal((await b('/me', { token: bobPair.accessToken })).status, 401)
  // Logged out everywhere, then in again at once on the other instance: its tokens carry an iat past the cutoff.
  const again = await pair(b('/auth/login', { body: { username: bob, password: PASSWORD } }))
  t.equal((await a('/me', { token: again.accessToken })).status, 200)
})

t.test('the ops CLI, with its defaults, revokes a token of the example', async (t) => {
  const app = await buildExample(t, redis)
  const http = await listen(app)
  const username = newName()
  await http('/auth/register', { body: { username, password: PASSWORD } })
  const { accessToken } = await pair(http('/auth/login', { body: { username, password: PASSWORD } }))
  const env = { REDIS_URL: redis.redisUrl ?? '' }
  t.equal((await cli(['check', accessToken], env)).code, 0, 'not revoked yet')
  const revoked = await cli(['revoke', accessToken], env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.equal((await http('/me', { token: accessToken })).status, 401, 'the example refuses the token the CLI revoked')
  t.equal((await cli(['check', accessToken], env)).code, 1)
  t.equal((await app.redis.keys('jwt-revoke:*')).length > 0, true, 'the deny-list is under the plugin\'s default prefix')
})
