import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { MemoryUserStore } from '../../examples/auth-server/users/memory.js'
import type { User } from '../../examples/auth-server/users/store.js'
import { buildExample, Client, PASSWORD, variants, type Pair } from '../helpers/example-app.js'

const NEW_PASSWORD = 'a brand new passphrase'
// A cost at which one argon2 verification takes long enough for a login to overlap each step of a password change.
const SLOWER_HASHING = { memoryCost: 8192, timeCost: 2, parallelism: 1 }
const ROUNDS = 12

/** Users in memory whose next findByName (a login's read of the password hash) waits for the test's go-ahead. */
class PausingUsers extends MemoryUserStore {
  #gate: { read: () => void, resume: Promise<void> } | undefined

  /** Pauses the next login after it read the user; resolves once it did, with the function that lets it go on. */
  pauseNextLogin (): Promise<() => void> {
    return new Promise((resolve) => {
      let go = (): void => {}
      const resume = new Promise<void>((resolve) => { go = resolve })
      this.#gate = { read: () => resolve(go), resume }
    })
  }

  override async findByName (username: string): Promise<User | undefined> {
    const user = await super.findByName(username)
    const gate = this.#gate
    this.#gate = undefined
    gate?.read()
    await gate?.resume
    return user
  }
}

t.test('a login that read the old password before a change and signs after it is refused at issuance', async (t) => {
  const users = new PausingUsers()
  const app = await buildExample(t, { name: 'memory' }, { users })
  const client = new Client(app)
  const { username, pair } = await client.signup()
  const paused = users.pauseNextLogin()
  const login = client.login(username, PASSWORD)
  const go = await paused
  const changed = await client.post('/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, pair.accessToken)
  t.equal(changed.statusCode, 200)
  // Its tokens would carry an iat past the change's cutoff: only the credential version can stop them.
  await sleep(1100 - (Date.now() % 1000))
  go()
  const reply = await login
  t.equal(reply.statusCode, 401, 'the login that checked the old password gets no tokens')
  t.equal(reply.json<{ code: string }>().code, 'AUTH_INVALID_CREDENTIALS')
  const sessions = await client.get('/auth/sessions', changed.json<Pair>().accessToken)
  t.equal(sessions.json<unknown[]>().length, 1, 'and leaves no session behind: only the caller\'s new one')
})

for (const variant of await variants(t)) {
  t.test(`${variant.name} store: a password change and the revocation of the old sessions are one outcome`, async (t) => {
    t.test('a revocation that fails leaves the old password, the error reaches the caller', async (t) => {
      const app = await buildExample(t, variant)
      const client = new Client(app)
      const { username, pair } = await client.signup()
      const revokeSubject = app.revokeSubject
      app.revokeSubject = async () => { throw new Error('the store is down') }
      const failed = await client.post('/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, pair.accessToken)
      app.revokeSubject = revokeSubject
      t.equal(failed.statusCode, 500, 'the caller hears of the failure')
      t.equal((await client.login(username, PASSWORD)).statusCode, 200, 'the old password still works')
      t.equal((await client.login(username, NEW_PASSWORD)).statusCode, 401, 'the new one was not kept')
      const retried = await client.post('/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, pair.accessToken)
      t.equal(retried.statusCode, 200, 'a retry succeeds')
      t.equal((await client.me(pair.accessToken)).statusCode, 401, 'and revokes the old session')
      t.equal((await client.login(username, NEW_PASSWORD)).statusCode, 200)
    })

    t.test(`a login with the old password in flight during the change never survives it (${ROUNDS} rounds)`, async (t) => {
      const app = await buildExample(t, variant, { hashing: SLOWER_HASHING })
      const client = new Client(app)
      const outcomes = { refused: 0, revoked: 0 }
      for (let round = 0; round < ROUNDS; round++) {
        const { username, pair } = await client.signup()
        const change = client.post('/auth/password', { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, pair.accessToken)
        // The login starts at a different point of the change each round: before, during and after its hashing.
        await sleep(round * 4)
        const [changed, login] = await Promise.all([change, client.login(username, PASSWORD)])
        t.equal(changed.statusCode, 200, `round ${round}: the change succeeded`)
        if (login.statusCode !== 200) {
          outcomes.refused++
          continue
        }
        const old = login.json<Pair>()
        const me = await client.me(old.accessToken)
        t.equal(me.statusCode, 401, `round ${round}: the access token of the racing login is refused`)
        t.equal((await client.refresh(old.refreshToken)).statusCode, 401, `round ${round}: and its refresh token`)
        if (me.statusCode === 401) outcomes.revoked++
      }
      t.equal(outcomes.refused + outcomes.revoked, ROUNDS, `refused at login ${outcomes.refused}, revoked after ${outcomes.revoked}`)
    })
  })
}
