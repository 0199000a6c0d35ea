import t from 'tap'
import { buildExample, Client, newName, PASSWORD, variants, type Pair } from '../helpers/example-app.js'

for (const variant of await variants(t)) {
  t.test(`${variant.name} store`, async (t) => {
    const app = await buildExample(t, variant)
    const client = new Client(app)

    t.test('the whole flow: register, login, me, refresh, logout', async (t) => {
      const username = newName()
      const registered = await client.register(username)
      t.equal(registered.statusCode, 201)
      const { id } = registered.json<{ id: string, username: string }>()
      t.same(registered.json(), { id, username })
      t.equal((await client.register(username)).statusCode, 409, 'a taken name is a 409')

      const login = await client.login(username)
      t.equal(login.statusCode, 200)
      const pair = login.json<Pair>()
      t.equal(pair.tokenType, 'Bearer')
      t.equal(pair.expiresIn, 900)
      t.same((await client.me(pair.accessToken)).json(), { id, username })

      const refreshed = await client.refresh(pair.refreshToken)
      t.equal(refreshed.statusCode, 200)
      const next = refreshed.json<Pair>()
      t.not(next.refreshToken, pair.refreshToken, 'a new refresh token')
      t.equal((await client.me(next.accessToken)).statusCode, 200)
      t.equal((await client.me(pair.accessToken)).statusCode, 200, 'the previous access token lives until it expires')

      t.equal((await client.post('/auth/logout', undefined, next.accessToken)).statusCode, 204)
      t.equal((await client.me(next.accessToken)).statusCode, 401, 'the access token is revoked')
      t.equal((await client.me(pair.accessToken)).statusCode, 401, 'so is every access token of the session')
      t.equal((await client.refresh(next.refreshToken)).statusCode, 401, 'and its refresh token')
      t.equal(await app.isRevoked(next.refreshToken), true, 'the refresh token is on the deny-list too')
    })

    t.test('rotation: the old refresh token is dead at once', async (t) => {
      const { pair } = await client.signup()
      const next = (await client.refresh(pair.refreshToken)).json<Pair>()
      const again = await client.refresh(pair.refreshToken)
      t.equal(again.statusCode, 401)
      t.equal(again.json().code, 'AUTH_INVALID_REFRESH_TOKEN')
      t.equal((await client.refresh(next.refreshToken)).statusCode, 401, 'the reuse ended the family: the new one is dead too')
    })

    t.test('logout with the refresh token of another session of the same user ends both', async (t) => {
      const { username, pair } = await client.signup()
      const other = await client.loginPair(username)
      const stranger = await client.signup()
      t.equal((await client.post('/auth/logout', { refreshToken: other.refreshToken }, pair.accessToken)).statusCode, 204)
      t.equal((await client.refresh(other.refreshToken)).statusCode, 401)
      t.equal((await client.me(other.accessToken)).statusCode, 401)
      // Another user's refresh token in the body is ignored, never revoked.
      const mine = await client.loginPair(username)
      t.equal((await client.post('/auth/logout', { refreshToken: stranger.pair.refreshToken }, mine.accessToken)).statusCode, 204)
      t.equal((await client.refresh(stranger.pair.refreshToken)).statusCode, 200)
    })

    t.test('logout-all revokes every session; a login right after works', async (t) => {
      const { username, pair } = await client.signup()
      const second = await client.loginPair(username)
      const bystander = await client.signup()
      t.equal((await client.post('/auth/logout-all', undefined, pair.accessToken)).statusCode, 204)
      for (const token of [pair.accessToken, second.accessToken]) t.equal((await client.me(token)).statusCode, 401)
      for (const token of [pair.refreshToken, second.refreshToken]) t.equal((await client.refresh(token)).statusCode, 401)
      t.equal((await client.me(bystander.pair.accessToken)).statusCode, 200, 'other users keep their sessions')

      // logout-all resolved once the cutoff's second was over (revokeSubject() waits): the new session's tokens carry
      // a later iat and pass, with nothing in the example to make it so.
      const fresh = await client.loginPair(username)
      t.equal((await client.me(fresh.accessToken)).statusCode, 200)
      const rotated = await client.refresh(fresh.refreshToken)
      t.equal(rotated.statusCode, 200)
      t.equal((await client.me(rotated.json<Pair>().accessToken)).statusCode, 200)
    })

    t.test('password change: new password only, every other session logged out, the caller gets a new pair', async (t) => {
      const { username, pair } = await client.signup()
      const other = await client.loginPair(username)
      const newPassword = 'a brand new passphrase'
      const wrong = await client.post('/auth/password', { currentPassword: 'not my password', newPassword }, pair.accessToken)
      t.equal(wrong.statusCode, 403, 'the current password is checked (403: the session itself is fine)')
      t.equal(wrong.json().code, 'AUTH_WRONG_PASSWORD')
      t.equal((await client.me(pair.accessToken)).statusCode, 200, 'and a wrong one changes nothing')

      const changed = await client.post('/auth/password', { currentPassword: PASSWORD, newPassword }, pair.accessToken)
      t.equal(changed.statusCode, 200)
      const fresh = changed.json<Pair>()
      t.equal((await client.me(fresh.accessToken)).statusCode, 200, 'the caller stays logged in')
      t.equal((await client.refresh(fresh.refreshToken)).statusCode, 200)
      for (const token of [pair.accessToken, other.accessToken]) t.equal((await client.me(token)).statusCode, 401)
      for (const token of [pair.refreshToken, other.refreshToken]) t.equal((await client.refresh(token)).statusCode, 401)
      t.equal((await client.login(username, PASSWORD)).statusCode, 401, 'the old password is refused')
      t.equal((await client.login(username, newPassword)).statusCode, 200)
    })
  })
}
