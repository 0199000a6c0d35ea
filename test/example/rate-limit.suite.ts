import { setTimeout as sleep } from 'node:timers/promises'
import type { LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { RateLimits } from '../../examples/auth-server/rate-limits.js'
import { buildExample, Client, newName, PASSWORD, uniquePrefix, variants, type Pair, type Variant } from '../helpers/example-app.js'

// Windows of a minute wherever a test only counts, so a slow run can never see a window reset mid-test; one second
// where the reset is the point.
const MINUTE = 60

async function limited (t: Test, variant: Variant, rateLimits: Partial<RateLimits>, keyPrefix = uniquePrefix()): Promise<Client> {
  return new Client(await buildExample(t, variant, { rateLimits, keyPrefix }))
}

/** A login from the given client address. */
function login (client: Client, ip: string, username: string, password = PASSWORD): Promise<LightMyRequestResponse> {
  return client.post('/auth/login', { username, password }, undefined, { remoteAddress: ip })
}

function register (client: Client, ip: string, username = newName()): Promise<LightMyRequestResponse> {
  return client.post('/auth/register', { username, password: PASSWORD }, undefined, { remoteAddress: ip })
}

/** A 429 of the app's error shape, with a Retry-After of at most `window` seconds. */
function assertLimited (t: Test, reply: LightMyRequestResponse, window: number): void {
  t.equal(reply.statusCode, 429)
  t.equal(reply.json<{ code: string }>().code, 'AUTH_RATE_LIMITED')
  const retryAfter = Number(reply.headers['retry-after'])
  t.ok(retryAfter >= 1 && retryAfter <= window, `Retry-After ${String(reply.headers['retry-after'])} within the window`)
}

for (const variant of await variants(t)) {
  t.test(`${variant.name} store, rateLimits: false (RATE_LIMITS=off): nothing is limited`, async (t) => {
    const keyPrefix = uniquePrefix()
    const client = new Client(await buildExample(t, variant, { rateLimits: false, keyPrefix }))
    const { username } = await client.signup()
    for (let i = 0; i < 12; i++) t.equal((await login(client, '10.0.5.1', username, 'wrong password')).statusCode, 401)
    const last = await login(client, '10.0.5.1', username)
    t.equal(last.statusCode, 200, 'past every default limit, per IP and per username')
    t.equal(last.headers['x-ratelimit-limit'], undefined, 'and no rate-limit headers')
    if (variant.name === 'redis') t.same(await client.app.redis.keys(`${keyPrefix}*rate-limit*`), [], 'no counter in Redis')
  })

  t.test(`${variant.name} store`, async (t) => {
    t.test('the (N+1)th login from one IP is a 429, whatever the usernames; another IP is not limited', async (t) => {
      const client = await limited(t, variant, { loginPerIp: { max: 3, perSeconds: MINUTE } })
      const { username } = await client.signup()
      for (let i = 0; i < 3; i++) t.equal((await login(client, '10.0.0.1', newName())).statusCode, 401)
      const blocked = await login(client, '10.0.0.1', username)
      assertLimited(t, blocked, MINUTE)
      t.equal(blocked.headers['x-ratelimit-limit'], '3')
      t.equal((await login(client, '10.0.0.2', username)).statusCode, 200)
    })

    t.test('the limit per username holds across IPs and letter case; other usernames are not limited', async (t) => {
      const client = await limited(t, variant, { loginPerUsername: { max: 3, perSeconds: MINUTE } })
      const alice = newName()
      const bob = newName()
      for (const name of [alice, bob]) t.equal((await register(client, '10.0.1.1', name)).statusCode, 201)
      // A botnet: one wrong guess from each address.
      for (const [ip, name] of [['10.0.1.1', alice], ['10.0.1.2', alice.toUpperCase()], ['10.0.1.3', alice]] as const) {
        t.equal((await login(client, ip, name, 'wrong password')).statusCode, 401)
      }
      assertLimited(t, await login(client, '10.0.1.4', alice), MINUTE)
      t.equal((await login(client, '10.0.1.4', bob)).statusCode, 200)
    })

    t.test('register, refresh and /oauth/revoke are limited per IP, each route on its own', async (t) => {
      const perRoute = { max: 2, perSeconds: MINUTE }
      const client = await limited(t, variant, { register: perRoute, refresh: perRoute, revoke: perRoute })
      const routes: Array<{ name: string, send: (ip: string) => Promise<LightMyRequestResponse>, ok: number }> = [
        { name: 'register', send: (ip) => register(client, ip), ok: 201 },
        { name: 'refresh', send: (ip) => client.post('/auth/refresh', { refreshToken: 'garbage' }, undefined, { remoteAddress: ip }), ok: 401 },
        { name: 'revoke', send: (ip) => client.post('/oauth/revoke', { token: 'garbage' }, undefined, { remoteAddress: ip }), ok: 200 }
      ]
      for (const route of routes) {
        for (let i = 0; i < perRoute.max; i++) t.equal((await route.send('10.0.2.1')).statusCode, route.ok, route.name)
        assertLimited(t, await route.send('10.0.2.1'), MINUTE)
        t.equal((await route.send('10.0.2.2')).statusCode, route.ok, `${route.name} from another IP`)
      }
    })

    t.test('password changes: limited per user whatever the IP, and per IP whatever the user', async (t) => {
      const client = await limited(t, variant, { passwordPerUser: { max: 2, perSeconds: MINUTE }, passwordPerIp: { max: 3, perSeconds: MINUTE } })
      const change = (token: string, ip: string, currentPassword = 'a wrong guess'): Promise<LightMyRequestResponse> =>
        client.post('/auth/password', { currentPassword, newPassword: 'a brand new passphrase' }, token, { remoteAddress: ip })
      // A thief with alice's access token guesses her password from several addresses.
      const alice = await client.signup()
      t.equal((await change(alice.pair.accessToken, '10.0.6.1')).statusCode, 403)
      t.equal((await change(alice.pair.accessToken, '10.0.6.2')).statusCode, 403)
      assertLimited(t, await change(alice.pair.accessToken, '10.0.6.3', PASSWORD), MINUTE)
      t.equal((await client.login(alice.username)).statusCode, 200, 'even the right guess was refused: the password is unchanged')
      // One address trying the tokens of many users.
      const users = await Promise.all([client.signup(), client.signup(), client.signup(), client.signup()])
      for (const user of users.slice(0, 3)) t.equal((await change(user.pair.accessToken, '10.0.7.1')).statusCode, 403)
      assertLimited(t, await change(users[3]?.pair.accessToken ?? '', '10.0.7.1'), MINUTE)
      t.equal((await change(users[3]?.pair.accessToken ?? '', '10.0.7.2')).statusCode, 403, 'another IP, a user with tries left')
    })

    if (variant.name === 'redis') {
      t.test('the password-change limit per user is shared by the instances on one Redis', async (t) => {
        const prefix = uniquePrefix()
        const first = await limited(t, variant, { passwordPerUser: { max: 2, perSeconds: MINUTE } }, prefix)
        const second = await limited(t, variant, { passwordPerUser: { max: 2, perSeconds: MINUTE } }, prefix)
        const { id, pair } = await first.signup()
        const body = { currentPassword: 'a wrong guess', newPassword: 'a brand new passphrase' }
        t.equal((await first.post('/auth/password', body, pair.accessToken)).statusCode, 403)
        t.equal((await second.post('/auth/password', body, pair.accessToken)).statusCode, 403)
        assertLimited(t, await first.post('/auth/password', body, pair.accessToken), MINUTE)
        t.ok(await first.app.redis.exists(`${prefix}rate-limit:password-user:${id}`), 'the counter is named after the user id')
      })
    }

    t.test('after the window, requests succeed again', async (t) => {
      const second = { max: 2, perSeconds: 1 }
      const client = await limited(t, variant, { loginPerIp: second, loginPerUsername: second, refresh: { max: 1, perSeconds: 1 } })
      const carol = newName()
      t.equal((await register(client, '10.0.3.1', carol)).statusCode, 201)
      const pair = (await login(client, '10.0.3.1', carol)).json<Pair>()
      t.equal((await login(client, '10.0.3.2', carol, 'wrong password')).statusCode, 401)
      assertLimited(t, await login(client, '10.0.3.3', carol), 1)
      for (let i = 0; i < 2; i++) t.equal((await login(client, '10.0.3.4', newName())).statusCode, 401)
      assertLimited(t, await login(client, '10.0.3.4', newName()), 1)
      const rotated = (await client.refresh(pair.refreshToken)).json<Pair>()
      assertLimited(t, await client.refresh(rotated.refreshToken), 1)

      // Every window above started less than a second ago.
      await sleep(1100)
      t.equal((await login(client, '10.0.3.4', carol)).statusCode, 200, 'the username and the IP may log in again')
      t.equal((await client.refresh(rotated.refreshToken)).statusCode, 200, 'and refresh again')
    })

    t.test(variant.name === 'redis'
      ? 'two instances sharing Redis share the limits'
      : 'in memory, each instance counts on its own', async (t) => {
      const limits = { loginPerUsername: { max: 2, perSeconds: MINUTE }, register: { max: 2, perSeconds: MINUTE } }
      // The same key prefix: two instances of one deployment.
      const prefix = uniquePrefix()
      const first = await limited(t, variant, limits, prefix)
      const second = await limited(t, variant, limits, prefix)
      const name = newName()
      for (let i = 0; i < 2; i++) t.equal((await login(first, '10.0.4.1', name)).statusCode, 401)
      for (let i = 0; i < 2; i++) t.equal((await register(first, '10.0.4.1')).statusCode, 201)
      const login3 = await login(second, '10.0.4.2', name)
      const register3 = await register(second, '10.0.4.1')
      if (variant.name === 'redis') {
        assertLimited(t, login3, MINUTE)
        assertLimited(t, register3, MINUTE)
        const keys = await second.app.redis.keys(`${prefix}rate-limit:*`)
        t.same(keys.sort(), [
          `${prefix}rate-limit:POST/auth/login:10.0.4.1`,
          `${prefix}rate-limit:POST/auth/login:10.0.4.2`,
          `${prefix}rate-limit:POST/auth/register:10.0.4.1`,
          `${prefix}rate-limit:login-username:${name.toLowerCase()}`
        ], 'the counters live in the Redis the plugin uses, under the app prefix, named after the route or the username')
        const ttl = await second.app.redis.pttl(`${prefix}rate-limit:login-username:${name.toLowerCase()}`)
        t.ok(ttl > 0 && ttl <= MINUTE * 1000, `each counter expires with its window (${ttl} ms)`)
      } else {
        t.equal(login3.statusCode, 401)
        t.equal(register3.statusCode, 201)
      }
    })
  })
}
