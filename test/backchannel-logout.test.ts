// The back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0, 2.4 to 2.8) against a stand-in provider
// that serves its JWKS on loopback: every validation step, each with a token that fails only that step.
import formbody from '@fastify/formbody'
import fastifyJwt, { type JwtHeader, type TokenOrHeader } from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import buildGetJwks from 'get-jwks'
import t, { type Test } from 'tap'
import jwtRevoke, { backchannelLogout, type BackchannelLogoutOptions, type JwtRevokeOptions } from '../index.js'
import { BACKCHANNEL_LOGOUT_EVENT } from '../lib/logout-token.js'
import { bearer, collectLogs } from './helpers/app.js'
import { makeKey, startFakeProvider } from './helpers/fake-provider.js'
import { freePort } from './helpers/redis-server.js'

// Keys are generated and servers started at load: slow on a busy 2-core machine.
t.setTimeout(120_000)
const AUDIENCE = 'resource-server'
const now = (): number => Math.floor(Date.now() / 1000)

const provider = await startFakeProvider(AUDIENCE)
t.teardown(() => provider.close())

/**
 * A resource server as apps build one: @fastify/jwt verifying the provider's access tokens with get-jwks (RS256 and
 * ES256, typed at+jwt), the plugin, and the receiver.
 */
async function resourceServer (t: Test, receiver: Partial<BackchannelLogoutOptions> = {}, before?: (app: FastifyInstance) => Promise<void>,
  plugin: JwtRevokeOptions = { store: 'memory' }): Promise<FastifyInstance> {
  const app = Fastify({ logger: collectLogs('info').logger })
  await before?.(app)
  const getJwks = buildGetJwks({ jwksPath: 'keys/jwks.json' })
  await app.register(fastifyJwt, {
    decode: { complete: true },
    // With decode.complete, @fastify/jwt hands the secret function the whole token: the key is the issuer's, by kid.
    secret: async (_request: FastifyRequest, token: TokenOrHeader) => {
      const { header, payload } = token as { header: JwtHeader, payload: { iss: string } }
      return await getJwks.getPublicKey({ domain: payload.iss, kid: header.kid as string, alg: header.alg })
    },
    verify: { allowedIss: provider.issuer, allowedAud: AUDIENCE, algorithms: ['RS256', 'ES256'] }
  })
  await app.register(jwtRevoke, plugin)
  await app.register(backchannelLogout, { issuer: provider.issuer, audience: AUDIENCE, ...receiver })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user)
  await app.ready()
  t.teardown(() => app.close())
  return app
}

/** An access token of the provider (RFC 9068: typ at+jwt), for the session. */
function accessToken (claims: Record<string, unknown> = {}, key = provider.served[0]): string {
  return provider.sign({ iss: provider.issuer, aud: AUDIENCE, sub: 'user-1', sid: 'session-1', client_id: 'web', scope: 'openid', jti: crypto.randomUUID(), iat: now(), ...claims }, { key, typ: 'at+jwt', expiresIn: 600 })
}

async function post (app: FastifyInstance, body: string, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number, json: Record<string, unknown> | undefined, cacheControl: unknown }> {
  const response = await app.inject({ method: 'POST', url: '/backchannel-logout', headers: { 'content-type': contentType }, body })
  return { status: response.statusCode, json: response.body === '' ? undefined : response.json(), cacheControl: response.headers['cache-control'] }
}

const form = (token: string): string => new URLSearchParams({ logout_token: token }).toString()

async function status (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
}

t.test('a valid logout token with sid revokes that session on the next request, and only it', async (t) => {
  const app = await resourceServer(t)
  const mine = accessToken()
  const ec = accessToken({}, provider.served[1])
  const otherSession = accessToken({ sid: 'session-2' })
  for (const token of [mine, ec, otherSession]) t.equal(await status(app, token), 200, 'RS256 and ES256 at+jwt access tokens verify')
  const answer = await post(app, form(provider.logoutToken({})))
  t.equal(answer.status, 200)
  t.equal(answer.cacheControl, 'no-store')
  t.equal(answer.json, undefined, 'an empty body')
  t.equal(await status(app, mine), 401, "the session's tokens are refused")
  t.equal(await status(app, ec), 401)
  t.equal(await status(app, otherSession), 200, "the user's other sessions pass")
  t.equal(await app.isRevoked({ sub: 'user-1', sid: 'session-1', iat: now() - 1 }), true)
})

t.test('a logout token with only sub revokes every token of the subject issued up to its iat', async (t) => {
  const app = await resourceServer(t)
  const before = accessToken({ sub: 'user-2', sid: 'a', iat: now() - 30 })
  const beforeToo = accessToken({ sub: 'user-2', sid: 'b', iat: now() - 30 })
  const otherUser = accessToken({ sub: 'user-3', iat: now() - 30 })
  const logoutIat = now() - 10
  t.equal((await post(app, form(provider.logoutToken({ sub: 'user-2', sid: undefined, iat: logoutIat })))).status, 200)
  t.equal(await status(app, before), 401)
  t.equal(await status(app, beforeToo), 401)
  t.equal(await status(app, otherUser), 200)
  t.equal(await status(app, accessToken({ sub: 'user-2', sid: 'c', iat: logoutIat + 1 })), 200, 'a login after the logout passes: the cutoff is the logout token\'s iat')
})

t.test("revoke: 'subject' revokes every token of the subject even when the logout names a session", async (t) => {
  const app = await resourceServer(t, { revoke: 'subject' })
  const noSid = accessToken({ sub: 'user-5', sid: undefined, iat: now() - 30 })
  const otherSession = accessToken({ sub: 'user-5', sid: 'other', iat: now() - 30 })
  t.equal((await post(app, form(provider.logoutToken({ sub: 'user-5', sid: 's5', iat: now() - 10 })))).status, 200)
  t.equal(await status(app, noSid), 401, 'an access token without sid is reached')
  t.equal(await status(app, otherSession), 401)
  t.equal((await post(app, form(provider.logoutToken({ sub: undefined, sid: 'only-sid' })))).status, 200, 'a logout naming only a session still revokes it')
  t.equal(await app.isRevoked({ sub: null, sid: 'only-sid', iat: now() - 20 }), true)
})

t.test('a replayed logout token changes nothing', async (t) => {
  const app = await resourceServer(t)
  const token = provider.logoutToken({ sub: 'user-4', sid: undefined, iat: now() - 20 })
  t.equal((await post(app, form(token))).status, 200)
  const revocations = app.jwtRevoke.stats().revocations
  const answer = await post(app, form(token))
  t.equal(answer.status, 200, 'answered as done: the provider may retry a delivery whose answer it lost')
  t.equal(app.jwtRevoke.stats().revocations, revocations, 'nothing is written')
  t.equal(await status(app, accessToken({ sub: 'user-4', sid: 'later', iat: now() - 5 })), 200, 'a session opened after the logout is untouched')
})

t.test('keys: fetched once and cached, fetched again for an unknown kid (rotation)', async (t) => {
  const app = await resourceServer(t, { jwksUri: provider.jwksUri })
  const discoveries = provider.fetches.discovery
  t.equal((await post(app, form(provider.logoutToken({ sid: 'k1' })))).status, 200)
  const fetched = provider.fetches.jwks
  t.equal((await post(app, form(provider.logoutToken({ sid: 'k2' })))).status, 200)
  t.equal(provider.fetches.jwks, fetched, 'a known kid is not fetched again')
  t.equal(provider.fetches.discovery, discoveries, 'a configured jwksUri needs no discovery')
  const rotated = makeKey('rsa-2', 'RS256')
  provider.served.push(rotated)
  t.teardown(() => { provider.served.pop() })
  t.equal((await post(app, form(provider.logoutToken({ sid: 'k3' }, { key: rotated })))).status, 200, 'a new kid is fetched')
  t.equal(provider.fetches.jwks, fetched + 1)
})

t.test('the JWKS is discovered from the issuer, whose discovery document must name it', async (t) => {
  const app = await resourceServer(t)
  const discoveries = provider.fetches.discovery
  t.equal((await post(app, form(provider.logoutToken({ sid: 'd1' })))).status, 200)
  t.equal(provider.fetches.discovery, discoveries + 1)
  provider.discoveryIssuer = 'https://impostor.example'
  t.teardown(() => { provider.discoveryIssuer = undefined })
  const other = await resourceServer(t)
  const session = accessToken({ sid: 'd2' })
  const refused = await post(other, form(provider.logoutToken({ sid: 'd2' })))
  t.equal(refused.status, 400)
  t.match(refused.json?.error_description, /names the issuer https:\/\/impostor.example/)
  t.equal(await status(other, session), 200, 'nothing revoked')
  provider.discoveryIssuer = undefined
  t.equal((await post(other, form(provider.logoutToken({ sid: 'd2' })))).status, 200, 'a failed discovery is tried again')
  t.equal(await status(other, session), 401)
  const nowhere = await resourceServer(t, { issuer: `${provider.issuer}/nowhere` })
  t.match((await post(nowhere, form(provider.logoutToken({ iss: `${provider.issuer}/nowhere` })))).json?.error_description, /answered 404/)
  const jwksUri = provider.jwksUri
  provider.jwksUri = ''
  t.teardown(() => { provider.jwksUri = jwksUri })
  t.match((await post(await resourceServer(t), form(provider.logoutToken({})))).json?.error_description, /has no jwks_uri/)
  provider.jwksUri = jwksUri
})

t.test('every invalid logout token: 400 invalid_request, no-store, and nothing revoked', async (t) => {
  const app = await resourceServer(t, { jwksUri: provider.jwksUri })
  const victim = accessToken({ sub: 'victim', sid: 'victim-session', iat: now() - 60 })
  const stranger = makeKey('rsa-1', 'RS256')
  const unknownKid = makeKey('not-served', 'ES256')
  const victimClaims = { sub: 'victim', sid: 'victim-session' }
  const hs256 = (() => {
    const jwt = Fastify().register(fastifyJwt, { secret: 'x'.repeat(32) })
    return jwt
  })()
  await hs256.ready()
  const cases: Array<[string, string, RegExp]> = [
    ['signed with a key the provider does not serve (same kid)', provider.logoutToken(victimClaims, { key: stranger }), /signature/i],
    ['signed with an unknown kid', provider.logoutToken(victimClaims, { key: unknownKid }), /key|jwk/i],
    ['another issuer', provider.logoutToken({ ...victimClaims, iss: 'https://other.example' }), /iss/],
    ['another audience', provider.logoutToken({ ...victimClaims, aud: 'someone-else' }), /aud/],
    ['no events', provider.logoutToken({ ...victimClaims, events: undefined }), /events/],
    ['events without the back-channel member', provider.logoutToken({ ...victimClaims, events: { 'http://schemas.openid.net/event/other': {} } }), /events/],
    ['the member is not an object', provider.logoutToken({ ...victimClaims, events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }), /events/],
    ['a nonce', provider.logoutToken({ ...victimClaims, nonce: 'n-1' }), /nonce/],
    ['neither sub nor sid', provider.logoutToken({ sub: undefined, sid: undefined }), /"sub" or a "sid"/],
    ['an empty sid', provider.logoutToken({ sub: 'victim', sid: '' }), /"sid"/],
    ['a sub that is not a string', provider.logoutToken({ sub: 42, sid: undefined }), /"sub"/],
    ['no jti', provider.logoutToken({ ...victimClaims, jti: undefined }), /jti/],
    ['too old (iat past maxAge)', provider.logoutToken({ ...victimClaims, iat: now() - 600 }, { expiresIn: 3600 }), /expired/], // fast-jwt's maxAge: 'expired at iat + maxAge',
    ['issued in the future', provider.logoutToken({ ...victimClaims, iat: now() + 600 }), /future/],
    ['expired', provider.logoutToken({ ...victimClaims, iat: now() - 200, exp: now() - 100 }), /expired/i],
    ['typed as an access token', provider.logoutToken(victimClaims, { typ: 'at+jwt' }), /typ/],
    ['HS256 (a key anyone with the JWKS knows)', hs256.jwt.sign({ iss: provider.issuer, aud: AUDIENCE, ...victimClaims, jti: 'h', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }), /algorithm/],
    ['alg none', `${Buffer.from('{"alg":"none","typ":"logout+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: provider.issuer, aud: AUDIENCE, ...victimClaims, iat: now(), exp: now() + 60, jti: 'n', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })).toString('base64url')}.`, /algorithm/],
    ['not a JWT', 'not-a-jwt', /not a JWT/]
  ]
  for (const [name, token, reason] of cases) {
    const answer = await post(app, form(token))
    t.equal(answer.status, 400, name)
    t.equal(answer.json?.error, 'invalid_request', name)
    t.match(answer.json?.error_description, reason, `${name}: ${String(answer.json?.error_description)}`)
    t.equal(answer.cacheControl, 'no-store', name)
  }
  const bodies: Array<[string, string, string]> = [
    ['JSON instead of a form', JSON.stringify({ logout_token: provider.logoutToken(victimClaims) }), 'application/json'],
    ['no logout_token', 'token=x', 'application/x-www-form-urlencoded'],
    ['two logout_tokens', `${form(provider.logoutToken(victimClaims))}&${form(provider.logoutToken(victimClaims))}`, 'application/x-www-form-urlencoded']
  ]
  for (const [name, body, type] of bodies) {
    const answer = await post(app, body, type)
    t.equal(answer.status, 400, name)
    t.equal(answer.json?.error, 'invalid_request', name)
    t.equal(answer.cacheControl, 'no-store', name)
  }
  t.equal(app.jwtRevoke.stats().revocations, 0, 'nothing was written')
  t.equal(await status(app, victim), 200, "the victim's session still works")
  t.equal((await post(app, form(provider.logoutToken(victimClaims)))).status, 200, 'while the genuine token is accepted')
  t.equal(await status(app, victim), 401)
})

t.test('an app that parses forms itself (@fastify/formbody) keeps its parser; the receiver reads it', async (t) => {
  const app = await resourceServer(t, { path: '/bcl' }, async (app) => { await app.register(formbody) })
  const session = accessToken({ sid: 'fb' })
  const send = async (body: string): Promise<number> => (await app.inject({ method: 'POST', url: '/bcl', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })).statusCode
  t.equal(await send(`${form('a')}&${form('b')}`), 400, 'a repeated logout_token is refused')
  t.equal(await send(form(provider.logoutToken({ sid: 'fb' }))), 200)
  t.equal(await status(app, session), 401)
})

t.test('a store that does not answer: 503, no-store, so the provider can tell it from a refused token', async (t) => {
  const deadRedis = `redis://127.0.0.1:${await freePort()}`
  const app = await resourceServer(t, {}, undefined, { store: 'redis', redis: deadRedis, storeTimeout: 200 })
  const answer = await post(app, form(provider.logoutToken({ sid: 'unreachable' })))
  t.equal(answer.status, 503)
  t.equal(answer.json?.code, 'FST_JWT_REVOKE_STORE_UNAVAILABLE')
  t.equal(answer.cacheControl, 'no-store')
})

t.test('set-up mistakes are told at register', async (t) => {
  const bare = Fastify()
  await t.rejects(async () => await bare.register(backchannelLogout, { issuer: provider.issuer, audience: AUDIENCE }).ready(), { code: 'FST_JWT_REVOKE_UNSUPPORTED_SETUP', message: /register fastify-jwt-revoke before/ })
  const withPlugin = async (options: BackchannelLogoutOptions): Promise<unknown> => {
    const app = Fastify()
    await app.register(fastifyJwt, { secret: 'x'.repeat(32) })
    await app.register(jwtRevoke)
    try {
      return await app.register(backchannelLogout, options).ready()
    } finally {
      await app.close()
    }
  }
  await t.rejects(withPlugin({ issuer: '', audience: AUDIENCE }), { message: /issuer/ })
  await t.rejects(withPlugin({ issuer: provider.issuer, audience: '' }), { message: /audience/ })
  await t.rejects(withPlugin({ issuer: provider.issuer, audience: [] }), { message: /audience/ })
  await t.resolves(withPlugin({ issuer: provider.issuer, audience: [AUDIENCE, 'other'] }))
})
