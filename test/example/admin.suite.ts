import t from 'tap'
import { bearer, buildExample, Client, newName, variants, type Pair } from '../helpers/example-app.js'

interface SessionSummary {
  id: string
  createdAt: string
  lastRefreshedAt: string
  userAgent: string
}

const forceLogout = (client: Client, username: string, token?: string) =>
  client.post(`/admin/users/${username}/logout`, undefined, token)

const listSessions = (client: Client, username: string, token?: string) =>
  client.get(`/admin/users/${username}/sessions`, token)

/** The token with its payload changed and its signature kept: what a client editing its own token sends. */
function withClaims (token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.')
  const edited = { ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object, ...claims }
  return [header, Buffer.from(JSON.stringify(edited)).toString('base64url'), signature].join('.')
}

for (const variant of await variants(t)) {
  t.test(`${variant.name} store`, async (t) => {
    const app = await buildExample(t, variant, { firstUserIsAdmin: true })
    const client = new Client(app)
    // The first user to register is the admin: the operator asked for it (firstUserIsAdmin, no adminUsername).
    const admin = await client.signup()
    const role = (token: string) => app.jwt.decode<{ role: string }>(token)?.role

    t.test('the role is a claim of the access token: admin for the first user, user for the others', async (t) => {
      const other = await client.signup()
      t.equal(role(admin.pair.accessToken), 'admin')
      t.equal(role(other.pair.accessToken), 'user')
      const refreshed = (await client.refresh(other.pair.refreshToken)).json<Pair>()
      t.equal(role(refreshed.accessToken), 'user', 'a rotation keeps the role')
    })

    t.test("force-logout revokes every token and session of the target, and nobody else's", async (t) => {
      const alice = await client.signup()
      const aliceAgain = await client.loginPair(alice.username)
      const bob = await client.signup()

      const reply = await forceLogout(client, alice.username, admin.pair.accessToken)
      t.equal(reply.statusCode, 204)
      t.equal(reply.body, '')

      for (const pair of [alice.pair, aliceAgain]) {
        t.equal((await client.me(pair.accessToken)).statusCode, 401, 'access token refused')
        t.equal(await app.isRevoked(pair.refreshToken), true, 'refresh token on the deny-list')
        t.equal((await client.refresh(pair.refreshToken)).statusCode, 401, 'refresh token refused')
      }
      t.same((await listSessions(client, alice.username, admin.pair.accessToken)).json(), [], 'no session left')

      t.equal((await client.me(bob.pair.accessToken)).statusCode, 200, 'another user is untouched')
      t.equal((await client.refresh(bob.pair.refreshToken)).statusCode, 200)
      t.equal((await client.me(admin.pair.accessToken)).statusCode, 200, 'the admin too')

      // A forced logout is no ban: a new login, in the same second too, is above the subject cutoff.
      const back = await client.loginPair(alice.username)
      t.equal((await client.me(back.accessToken)).statusCode, 200)
    })

    t.test("the admin lists a user's sessions, oldest first, without anyone's `current`", async (t) => {
      const { username, pair } = await client.signup()
      await client.post('/auth/login', { username, password: 'correct horse battery' }, undefined, {
        headers: { 'user-agent': 'PhoneBrowser/1.0' }
      })
      const reply = await listSessions(client, username.toUpperCase(), admin.pair.accessToken)
      t.equal(reply.statusCode, 200, 'usernames compare case-insensitively')
      const sessions = reply.json<SessionSummary[]>()
      t.equal(sessions.length, 2)
      t.same(Object.keys(sessions[0] ?? {}).sort(), ['createdAt', 'id', 'lastRefreshedAt', 'userAgent'])
      t.equal(sessions[1]?.userAgent, 'PhoneBrowser/1.0')
      const own = (await client.get('/auth/sessions', pair.accessToken)).json<SessionSummary[]>()
      t.same(sessions.map((session) => session.id), own.map((session) => session.id), 'the same as the user sees')
    })

    t.test('a non-admin gets 403, whatever the request claims, and nothing happens', async (t) => {
      // A body field the schema does not know is a 400: registering "as admin" makes nobody.
      const mallory = await client.register(newName())
      t.equal(mallory.statusCode, 201)
      const malloryName = mallory.json<{ username: string }>().username
      const asAdmin = newName()
      const registeredAsAdmin = await client.post('/auth/register', { username: asAdmin, password: 'correct horse battery', role: 'admin' })
      t.equal(registeredAsAdmin.statusCode, 400)
      t.equal((await client.register(asAdmin)).statusCode, 201, 'the name was left free')
      const claimed = await client.loginPair(asAdmin)
      t.equal(role(claimed.accessToken), 'user')

      const victim = await client.signup()
      const token = (await client.loginPair(malloryName)).accessToken
      const attempts = [
        forceLogout(client, victim.username, token),
        client.post(`/admin/users/${victim.username}/logout`, { role: 'admin' }, token, { headers: { ...bearer(token), 'x-role': 'admin' } }),
        forceLogout(client, victim.username, claimed.accessToken),
        listSessions(client, victim.username, token),
        // An unknown user is a 403 too: only an admin learns which usernames exist.
        forceLogout(client, 'nobody-at-all', token)
      ]
      for (const reply of await Promise.all(attempts)) {
        t.equal(reply.statusCode, 403)
        t.equal(reply.json<{ code: string }>().code, 'AUTH_ADMIN_ONLY')
      }
      t.equal((await client.me(victim.pair.accessToken)).statusCode, 200, 'the victim is still logged in')
    })

    t.test('a token with an edited role claim, or not an access token, is a 401', async (t) => {
      const victim = await client.signup()
      const { username } = await client.signup()
      const forged = withClaims((await client.loginPair(username)).accessToken, { role: 'admin' })
      t.equal((await forceLogout(client, victim.username, forged)).statusCode, 401, 'the signature no longer matches')
      t.equal((await forceLogout(client, victim.username, admin.pair.refreshToken)).statusCode, 401, "the admin's refresh token")
      t.equal((await forceLogout(client, victim.username)).statusCode, 401, 'no token')
      t.equal((await listSessions(client, victim.username)).statusCode, 401)
      t.equal((await client.me(victim.pair.accessToken)).statusCode, 200)
    })

    t.test('an unknown user is a 404 for the admin; a name no user can have is a 400', async (t) => {
      for (const reply of [
        await forceLogout(client, 'nobody-at-all', admin.pair.accessToken),
        await listSessions(client, 'nobody-at-all', admin.pair.accessToken)
      ]) {
        t.equal(reply.statusCode, 404)
        t.equal(reply.json<{ code: string }>().code, 'AUTH_USER_NOT_FOUND')
      }
      t.equal((await forceLogout(client, 'x'.repeat(65), admin.pair.accessToken)).statusCode, 400)
    })
  })

  t.test(`${variant.name} store, by default`, async (t) => {
    const app = await buildExample(t, variant)
    const client = new Client(app)

    t.test('nobody is the admin unless the operator says who: not the first user to register', async (t) => {
      const first = await client.signup()
      const second = await client.signup()
      t.equal(app.jwt.decode<{ role: string }>(first.pair.accessToken)?.role, 'user')
      const reply = await forceLogout(client, second.username, first.pair.accessToken)
      t.equal(reply.statusCode, 403)
      t.equal(reply.json<{ code: string }>().code, 'AUTH_ADMIN_ONLY')
      t.equal((await client.me(second.pair.accessToken)).statusCode, 200)
    })
  })

  t.test(`${variant.name} store, adminUsername`, async (t) => {
    const app = await buildExample(t, variant, { adminUsername: 'Boss' })
    const client = new Client(app)

    t.test('the named user is the admin, not the first one to register', async (t) => {
      const first = await client.signup()
      t.equal((await forceLogout(client, first.username, first.pair.accessToken)).statusCode, 403)
      const boss = await client.signup('boss')
      t.equal(app.jwt.decode<{ role: string }>(boss.pair.accessToken)?.role, 'admin', 'names compare case-insensitively')
      t.equal((await forceLogout(client, first.username, boss.pair.accessToken)).statusCode, 204)
      t.equal((await client.me(first.pair.accessToken)).statusCode, 401)
    })
  })
}
