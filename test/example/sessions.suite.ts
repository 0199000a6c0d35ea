import t from 'tap'
import { buildExample, Client, variants } from '../helpers/example-app.js'

interface SessionView {
  id: string
  createdAt: string
  lastRefreshedAt: string
  userAgent: string
  current: boolean
}

for (const variant of await variants(t)) {
  t.test(`${variant.name} store`, async (t) => {
    const app = await buildExample(t, variant)
    const client = new Client(app)

    t.test('the list shows each live session with its user agent; deleting one revokes its tokens', async (t) => {
      const { username, pair: laptop } = await client.signup()
      const phoneLogin = await client.post('/auth/login', { username, password: 'correct horse battery' }, undefined, {
        headers: { 'user-agent': 'PhoneBrowser/1.0' }
      })
      const phone = phoneLogin.json<{ accessToken: string, refreshToken: string }>()

      const listed = await client.get('/auth/sessions', laptop.accessToken)
      t.equal(listed.statusCode, 200)
      const sessions = listed.json<SessionView[]>()
      t.equal(sessions.length, 2)
      t.same(sessions.map((session) => session.current), [true, false], 'oldest first; the caller is marked')
      t.equal(sessions[1]?.userAgent, 'PhoneBrowser/1.0')
      t.ok(sessions.every((session) => Date.parse(session.createdAt) <= Date.parse(session.lastRefreshedAt)))

      await client.refresh(phone.refreshToken)
      const afterRefresh = (await client.get('/auth/sessions', laptop.accessToken)).json<SessionView[]>()
      t.equal(afterRefresh.length, 2, 'a rotation keeps the session, it does not add one')

      const phoneId = sessions[1]?.id ?? ''
      t.equal((await client.delete(`/auth/sessions/${phoneId}`, laptop.accessToken)).statusCode, 204)
      t.equal((await client.me(phone.accessToken)).statusCode, 401, "the deleted session's access token is revoked")
      const remaining = (await client.get('/auth/sessions', laptop.accessToken)).json<SessionView[]>()
      t.same(remaining.map((session) => session.id), [sessions[0]?.id])
      t.equal((await client.me(laptop.accessToken)).statusCode, 200)
    })

    t.test("another user's session, or an unknown one, is a 404 and stays alive", async (t) => {
      const alice = await client.signup()
      const bob = await client.signup()
      const [bobSession] = (await client.get('/auth/sessions', bob.pair.accessToken)).json<SessionView[]>()
      const del = (id: string, token: string) => client.delete(`/auth/sessions/${id}`, token)
      t.equal((await del(bobSession?.id ?? '', alice.pair.accessToken)).statusCode, 404)
      t.equal((await del('6f1d6e7e-0000-4000-8000-000000000000', alice.pair.accessToken)).statusCode, 404)
      t.equal((await del('not-a-uuid', alice.pair.accessToken)).statusCode, 400)
      t.equal((await client.me(bob.pair.accessToken)).statusCode, 200)
      t.equal((await client.get('/auth/sessions', alice.pair.accessToken)).json<SessionView[]>().length, 1, 'alice sees only hers')
    })

    t.test('the session routes need an access token', async (t) => {
      t.equal((await client.get('/auth/sessions')).statusCode, 401)
    })
  })
}
