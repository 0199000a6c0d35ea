import type { JWT } from '@fastify/jwt'
import t from 'tap'
import { buildExample, Client, uniquePrefix, variants, type Pair } from '../helpers/example-app.js'

const RACES = 20

const stores = await variants(t)

for (const variant of stores) {
  t.test(`${variant.name} store`, async (t) => {
    const app = await buildExample(t, variant)
    const client = new Client(app)

    t.test('reuse of a rotated refresh token revokes the whole family, the new pair included', async (t) => {
      const { username, pair: first } = await client.signup()
      const other = await client.loginPair(username)
      const second = (await client.refresh(first.refreshToken)).json<Pair>()
      const third = (await client.refresh(second.refreshToken)).json<Pair>()
      t.equal((await client.me(third.accessToken)).statusCode, 200)

      // The thief (or the victim) presents a token that was rotated out two generations ago.
      const replay = await client.refresh(first.refreshToken)
      t.equal(replay.statusCode, 401)
      for (const pair of [first, second, third]) {
        t.equal((await client.me(pair.accessToken)).statusCode, 401, 'every access token of the family is refused')
      }
      t.equal((await client.refresh(third.refreshToken)).statusCode, 401, 'the newest refresh token too')
      t.equal(await app.isRevoked(third.refreshToken), true)
      t.equal((await client.me(other.accessToken)).statusCode, 200, "the user's other session is untouched")
      t.equal((await client.refresh(other.refreshToken)).statusCode, 200)
    })

    t.test(`concurrent refreshes with one token: exactly one succeeds (${RACES} races)`, async (t) => {
      for (let race = 0; race < RACES; race++) {
        const { pair } = await client.signup()
        const replies = await Promise.all([client.refresh(pair.refreshToken), client.refresh(pair.refreshToken)])
        const codes = replies.map((reply) => reply.statusCode).sort()
        t.same(codes, [200, 401], `race ${race}`)
        // The loser presented a rotated token: strict mode treats it as theft, so the winner's pair is dead too.
        const winner = replies.find((reply) => reply.statusCode === 200)?.json<Pair>()
        t.equal((await client.refresh(winner?.refreshToken ?? '')).statusCode, 401)
      }
    })

    t.test('token types are enforced: each kind is signed with a key of its own', async (t) => {
      const { pair } = await client.signup()
      const asAccess = await client.me(pair.refreshToken)
      t.equal(asAccess.statusCode, 401, 'a refresh token is no access token')
      t.equal(asAccess.json().code, 'FST_JWT_AUTHORIZATION_TOKEN_INVALID', 'its signature is not the access key\'s')
      t.equal((await client.post('/auth/logout-all', undefined, pair.refreshToken)).statusCode, 401)
      t.equal((await client.get('/auth/sessions', pair.refreshToken)).statusCode, 401)
      const asRefresh = await client.refresh(pair.accessToken)
      t.equal(asRefresh.statusCode, 401, 'an access token is no refresh token')
      t.equal(asRefresh.json().code, 'AUTH_INVALID_REFRESH_TOKEN')
      t.equal((await client.me(pair.accessToken)).statusCode, 200, 'both were left intact')
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 200)
    })

    t.test('garbage, forged and expired refresh tokens are a 401', async (t) => {
      const { id } = await client.signup()
      const now = Math.floor(Date.now() / 1000)
      const refreshKey = (app.jwt as unknown as { refresh: JWT }).refresh
      const expired = refreshKey.sign({ sub: id, sid: 'x', jti: 'y', iat: now - 100, exp: now - 10 })
      for (const token of ['garbage', `${expired}x`, expired]) t.equal((await client.refresh(token)).statusCode, 401)
      // A token of the refresh key that is revoked (here: an operator's revokeSubject, no session ended) is refused by
      // request.refreshJwtVerify() itself: the plugin guards the refresh namespace.
      const { pair, id: other } = await client.signup()
      await app.revokeSubject(other)
      const revoked = await client.refresh(pair.refreshToken)
      t.equal(revoked.statusCode, 401)
      t.equal(revoked.json().code, 'AUTH_INVALID_REFRESH_TOKEN')
    })
  })

  t.test(`${variant.name} store, refreshReuseGrace`, async (t) => {
    const app = await buildExample(t, variant, { refreshReuseGrace: 30 })
    const client = new Client(app)

    t.test('the previous token is accepted again within the window and gets the current refresh token', async (t) => {
      const { pair } = await client.signup()
      const tabA = await client.refresh(pair.refreshToken)
      const tabB = await client.refresh(pair.refreshToken)
      t.equal(tabA.statusCode, 200)
      t.equal(tabB.statusCode, 200, 'no theft detection within the grace window')
      const a = tabA.json<Pair>()
      const b = tabB.json<Pair>()
      t.equal(app.jwt.decode<{ jti: string }>(b.refreshToken)?.jti, app.jwt.decode<{ jti: string }>(a.refreshToken)?.jti,
        'both tabs now hold the same refresh token id')
      t.equal((await client.me(b.accessToken)).statusCode, 200)
      const next = await client.refresh(b.refreshToken)
      t.equal(next.statusCode, 200)
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 401, 'two generations back is theft even with a grace')
      t.equal((await client.me(next.json<Pair>().accessToken)).statusCode, 401, 'and it ends the family')
    })

    t.test('concurrent refreshes both succeed', async (t) => {
      const { pair } = await client.signup()
      const replies = await Promise.all([client.refresh(pair.refreshToken), client.refresh(pair.refreshToken)])
      t.same(replies.map((reply) => reply.statusCode), [200, 200])
    })
  })
}

t.test('redis store: the rotation is atomic across two instances', async (t) => {
  const redis = stores.find((variant) => variant.name === 'redis')
  if (redis === undefined) throw new Error('no redis variant')
  // Two instances of the app, as behind a load balancer: same secret, same Redis, same keys.
  const keyPrefix = uniquePrefix()
  const a = new Client(await buildExample(t, redis, { keyPrefix }))
  const b = new Client(await buildExample(t, redis, { keyPrefix }))
  for (let race = 0; race < RACES; race++) {
    const { pair } = await a.signup()
    const replies = await Promise.all([a.refresh(pair.refreshToken), b.refresh(pair.refreshToken)])
    t.same(replies.map((reply) => reply.statusCode).sort(), [200, 401], `race ${race}`)
  }
  // Logout on one instance is seen by the other at once.
  const { pair } = await a.signup()
  t.equal((await b.post('/auth/logout', undefined, pair.accessToken)).statusCode, 204)
  t.equal((await a.me(pair.accessToken)).statusCode, 401)
  t.equal((await a.refresh(pair.refreshToken)).statusCode, 401)
})
