import t from 'tap'
import { bearer, buildExample, Client, variants } from '../helpers/example-app.js'

for (const variant of await variants(t)) {
  t.test(`${variant.name} store: RFC 7009 /oauth/revoke`, async (t) => {
    const app = await buildExample(t, variant)
    const client = new Client(app)
    const revokeForm = (body: string) => app.inject({
      method: 'POST', url: '/oauth/revoke', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
    const revokeJson = (body: object) => client.post('/oauth/revoke', body)

    t.test('an access token, posted as a form, is revoked alone', async (t) => {
      const { pair } = await client.signup()
      const reply = await revokeForm(`token=${pair.accessToken}&token_type_hint=access_token`)
      t.equal(reply.statusCode, 200)
      t.equal(reply.body, '')
      t.equal((await client.me(pair.accessToken)).statusCode, 401)
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 200, 'its refresh token still works')
    })

    t.test('a refresh token, posted as JSON, ends its session and its access tokens', async (t) => {
      const { pair } = await client.signup()
      t.equal((await revokeJson({ token: pair.refreshToken })).statusCode, 200)
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 401)
      t.equal((await client.me(pair.accessToken)).statusCode, 401)
    })

    t.test('a wrong or unknown hint is ignored', async (t) => {
      const { pair } = await client.signup()
      t.equal((await revokeJson({ token: pair.accessToken, token_type_hint: 'refresh_token' })).statusCode, 200)
      t.equal((await client.me(pair.accessToken)).statusCode, 401)
      t.equal((await revokeJson({ token: pair.refreshToken, token_type_hint: 'something_else' })).statusCode, 200)
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 401)
    })

    t.test('no oracle: revoked, expired, forged and garbage tokens all get the same 200', async (t) => {
      const { id, pair } = await client.signup()
      await revokeJson({ token: pair.accessToken })
      const now = Math.floor(Date.now() / 1000)
      const expired = app.jwt.sign({ role: 'user', sub: id, sid: 's', jti: 'j', iat: now - 100, exp: now - 10 })
      for (const token of [pair.accessToken, expired, `${pair.refreshToken}x`, 'garbage', '']) {
        const reply = await revokeJson({ token })
        t.equal(reply.statusCode, 200)
        t.equal(reply.body, '')
      }
      t.equal((await client.refresh(pair.refreshToken)).statusCode, 200, 'the forged copy revoked nothing')
    })

    t.test('a token of a type this server does not revoke: unsupported_token_type', async (t) => {
      // Signed with the access key, but not an access token of this server (no session, no role).
      const idToken = app.jwt.sign({ sub: 'someone', jti: 'an-id-token' }, { expiresIn: 60 })
      const reply = await revokeJson({ token: idToken })
      t.equal(reply.statusCode, 400)
      t.same(reply.json(), { error: 'unsupported_token_type' })
    })

    t.test('a missing or oversized token is invalid_request', async (t) => {
      const missing = await revokeForm('token_type_hint=access_token')
      t.equal(missing.statusCode, 400)
      t.equal(missing.json().error, 'invalid_request')
      t.match(missing.json().error_description, /token/)
      const oversized = await revokeJson({ token: 'x'.repeat(5000) })
      t.equal(oversized.statusCode, 400)
      t.equal(oversized.json().error, 'invalid_request')
    })

    t.test('a revoked Bearer header does not turn the answer into a 401', async (t) => {
      const { pair } = await client.signup()
      await revokeJson({ token: pair.accessToken })
      const reply = await app.inject({ method: 'POST', url: '/oauth/revoke', payload: { token: pair.accessToken }, headers: bearer(pair.accessToken) })
      t.equal(reply.statusCode, 200)
    })
  })
}
