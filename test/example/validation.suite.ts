import t from 'tap'
import { buildExample, Client, newName, PASSWORD, variants } from '../helpers/example-app.js'

interface BadCase {
  name: string
  url: string
  body: unknown
  /** The field the 400 must name. */
  field: string
}

const long = (length: number): string => 'a'.repeat(length)

function badBodies (username: string): BadCase[] {
  return [
    { name: 'register without username', url: '/auth/register', body: { password: PASSWORD }, field: 'username' },
    { name: 'register without password', url: '/auth/register', body: { username }, field: 'password' },
    { name: 'register with a number as password', url: '/auth/register', body: { username, password: 12345678 }, field: 'password' },
    { name: 'register with an object as username', url: '/auth/register', body: { username: { $ne: '' }, password: PASSWORD }, field: 'username' },
    { name: 'register with an oversized username', url: '/auth/register', body: { username: long(65), password: PASSWORD }, field: 'username' },
    { name: 'register with an oversized password', url: '/auth/register', body: { username, password: long(257) }, field: 'password' },
    { name: 'register with a short password', url: '/auth/register', body: { username, password: 'short' }, field: 'password' },
    { name: 'register with a bad character in the name', url: '/auth/register', body: { username: 'a b<c>', password: PASSWORD }, field: 'username' },
    { name: 'login without password', url: '/auth/login', body: { username }, field: 'password' },
    { name: 'login with an oversized password', url: '/auth/login', body: { username, password: long(257) }, field: 'password' },
    { name: 'login with an array as password', url: '/auth/login', body: { username, password: [PASSWORD] }, field: 'password' },
    { name: 'refresh without refreshToken', url: '/auth/refresh', body: {}, field: 'refreshToken' },
    { name: 'refresh with an oversized refreshToken', url: '/auth/refresh', body: { refreshToken: long(5000) }, field: 'refreshToken' },
    { name: 'refresh with a number', url: '/auth/refresh', body: { refreshToken: 42 }, field: 'refreshToken' }
  ]
}

for (const variant of await variants(t)) {
  t.test(`${variant.name} store`, async (t) => {
    const app = await buildExample(t, variant)
    const client = new Client(app)

    t.test('bad bodies are a 400 naming the field, and change nothing', async (t) => {
      const username = newName()
      for (const bad of badBodies(username)) {
        const reply = await client.post(bad.url, bad.body as object)
        t.equal(reply.statusCode, 400, bad.name)
        t.match(reply.json().message, bad.field, `${bad.name}: the message names ${bad.field}`)
      }
      t.equal((await client.login(username)).statusCode, 401, 'no user was created by a bad register')
      t.equal((await client.register(username)).statusCode, 201, 'and the name is still free')
      const other = newName()
      for (const [url, body] of [
        ['/auth/register', { username: other, password: PASSWORD, role: 'admin' }],
        ['/auth/login', { username, password: PASSWORD, admin: true }],
        ['/auth/refresh', { refreshToken: 'x.y.z', sub: 'someone' }]
      ] as const) {
        const extra = await client.post(url, body)
        t.equal(extra.statusCode, 400, `${url}: an unknown property is a 400`)
        t.match(extra.json().message, 'must NOT have additional properties')
      }
      t.equal((await client.login(other)).json().code, 'AUTH_INVALID_CREDENTIALS', 'the user with a role was not created')
      const notJson = await client.post('/auth/register', undefined, undefined, { payload: '<user/>', headers: { 'content-type': 'application/xml' } })
      t.equal(notJson.statusCode, 415, 'a body type the app does not parse is refused')
    })

    t.test('a bad body on an authenticated route changes nothing either', async (t) => {
      const { username, pair } = await client.signup()
      const badChange = await client.post('/auth/password', { currentPassword: PASSWORD, newPassword: long(300) }, pair.accessToken)
      t.equal(badChange.statusCode, 400)
      t.match(badChange.json().message, 'newPassword')
      const missing = await client.post('/auth/password', { newPassword: 'another passphrase' }, pair.accessToken)
      t.match(missing.json().message, 'currentPassword')
      t.equal((await client.login(username)).statusCode, 200, 'the password did not change')

      const badLogout = await client.post('/auth/logout', { refreshToken: 42 }, pair.accessToken)
      t.equal(badLogout.statusCode, 400)
      t.equal((await client.me(pair.accessToken)).statusCode, 200, 'no logout happened')
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 200)
    })

    t.test('login: unknown user and wrong password get the same 401', async (t) => {
      const { username } = await client.signup()
      const unknown = await client.login(newName())
      const wrong = await client.login(username, 'not the password')
      t.equal(unknown.statusCode, 401)
      t.equal(wrong.statusCode, 401)
      t.same(unknown.json(), wrong.json())
      t.equal(unknown.json().code, 'AUTH_INVALID_CREDENTIALS')
      t.equal((await client.login(username, 'short')).statusCode, 401, "a password below today's policy is just wrong at login")
    })
  })
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

t.test('login: an unknown user costs a password hash too (similar timing)', async (t) => {
  // A cost high enough that one argon2 verification dwarfs the rest of a request, low enough for a test.
  const app = await buildExample(t, { name: 'memory' }, { hashing: { memoryCost: 16384, timeCost: 2, parallelism: 1 } })
  const client = new Client(app)
  const username = newName()
  await client.register(username)
  const time = async (name: string, password: string): Promise<number> => {
    const start = process.hrtime.bigint()
    await client.login(name, password)
    return Number(process.hrtime.bigint() - start) / 1e6
  }
  const unknown: number[] = []
  const wrong: number[] = []
  for (let round = 0; round < 7; round++) {
    unknown.push(await time(newName(), 'not the password'))
    wrong.push(await time(username, 'not the password'))
  }
  // Without the dummy hash an unknown name answers in a small fraction of the time; bounds are loose for busy CI.
  const ratio = median(unknown) / median(wrong)
  t.ok(ratio > 0.4 && ratio < 2.5, `unknown ${median(unknown).toFixed(1)} ms vs wrong ${median(wrong).toFixed(1)} ms`)
})
