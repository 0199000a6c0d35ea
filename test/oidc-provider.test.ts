// End to end against a real, certified OpenID Provider (oidc-provider) on loopback: a client (openid-client) logs in
// with authorization code + PKCE through the provider's own login and consent pages, calls the example resource
// server (two instances sharing Redis) with its JWT access token, ends the session at the provider (RP-initiated
// logout, confirmed by its form); the provider POSTs its logout token, and both instances refuse that session's tokens
// while the user's other session goes on.
import { createServer, type Server } from 'node:http'
import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import Provider from 'oidc-provider'
import * as client from 'openid-client'
import t from 'tap'
import { buildResourceServer } from '../examples/resource-server/app.js'
import { bearer } from './helpers/app.js'
import { makeKey } from './helpers/fake-provider.js'
import { waitFor } from './helpers/mirror.js'
import { freePort, startRedisFor } from './helpers/redis-server.js'

t.setTimeout(120_000)
const RESOURCE = 'urn:example:api'
const CLIENT_ID = 'web-app'
const redis = await startRedisFor(t)
const [providerPort, apiPort] = [await freePort(), await freePort()]
const issuer = `http://127.0.0.1:${providerPort}`
const redirectUri = 'http://127.0.0.1/callback'
const apiUrl = `http://127.0.0.1:${apiPort}`
let logouts = 0

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    token_endpoint_auth_method: 'none',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    backchannel_logout_uri: `${apiUrl}/backchannel-logout`,
    backchannel_logout_session_required: true
  }],
  jwks: { keys: [{ ...rsa, kid: 'rsa-key', alg: 'RS256', use: 'sig' }, { ...ec, kid: 'ec-key', alg: 'ES256', use: 'sig' }] },
  pkce: { required: () => true },
  // The provider refuses to POST to special-use addresses (SSRF protection); the API here is on loopback, so this
  // test's provider fetches without that dispatcher. A real provider reaches the API at a routable address.
  fetch: async (url, options) => {
    const { dispatcher: _dispatcher, ...plain } = (options ?? {}) as RequestInit & { dispatcher?: unknown }
    return await fetch(url, plain)
  },
  findAccount: async (_ctx, accountId) => ({ accountId, claims: async () => ({ sub: accountId }) }),
  // RFC 9068 access tokens for the API, signed ES256, carrying the session id so that a logout can name them.
  extraTokenClaims: async (_ctx, token) => 'sid' in token && typeof token.sid === 'string' ? { sid: token.sid } : undefined,
  features: {
    devInteractions: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', audience: RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } })
    }
  }
})
provider.on('backchannel.success', () => { logouts++ })
const providerServer: Server = createServer(provider.callback())
await new Promise<void>((resolve) => providerServer.listen(providerPort, '127.0.0.1', resolve))
t.teardown(() => new Promise((resolve) => providerServer.close(resolve)))

async function api (port: number): Promise<FastifyInstance> {
  const app = await buildResourceServer({ issuer, audience: RESOURCE, logoutAudience: CLIENT_ID, redisUrl: redis.url })
  await app.listen({ host: '127.0.0.1', port })
  t.teardown(() => app.close())
  return app
}
const instances = [await api(apiPort), await api(0)]

/** A browser: a cookie jar over fetch, redirects followed by hand (each hop's cookies are kept). */
function browser (): (url: string, init?: RequestInit) => Promise<Response> {
  const jar = new Map<string, string>()
  return async (url, init = {}) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers as Record<string, string>, cookie } })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = (pair as string).indexOf('=')
      jar.set((pair as string).slice(0, at), (pair as string).slice(at + 1))
    }
    return response
  }
}

const config = await client.discovery(new URL(issuer), CLIENT_ID, undefined, client.None(), { execute: [client.allowInsecureRequests] })

/** Logs in as `user` through the provider's login and consent pages; answers the tokens and the browser. */
async function login (user: string): Promise<{ accessToken: string, idToken: string, go: ReturnType<typeof browser> }> {
  const go = browser()
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const authorize = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid api',
    resource: RESOURCE,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  })
  let location = authorize.href
  // authorize -> interaction (login) -> authorize -> interaction (consent) -> authorize -> callback with the code
  for (let hop = 0; hop < 12 && !location.startsWith(redirectUri); hop++) {
    const url = new URL(location, issuer).href
    const response = await go(url)
    if (response.status >= 300 && response.status < 400) {
      location = response.headers.get('location') as string
      continue
    }
    const page = await response.text()
    const uid = /\/interaction\/([^/]+)$/.exec(new URL(url).pathname)?.[1]
    if (uid === undefined) throw new Error(`unexpected page at ${url}: ${response.status} ${page.slice(0, 300)}`)
    const body = page.includes('name="password"') || page.includes('name="login"')
      ? new URLSearchParams({ prompt: 'login', login: user, password: 'any' })
      : new URLSearchParams({ prompt: 'consent' })
    const submitted = await go(`${issuer}/interaction/${uid}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    location = submitted.headers.get('location') as string
  }
  const tokens = await client.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: verifier, expectedState: state }, { resource: RESOURCE })
  return { accessToken: tokens.access_token, idToken: tokens.id_token as string, go }
}

async function me (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
}

t.test('a logout at the provider ends that session on every instance, and leaves the user\'s other session alone', async (t) => {
  const first = await login('alice')
  const second = await login('alice')
  const claims = JSON.parse(Buffer.from(first.accessToken.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>
  const header = JSON.parse(Buffer.from(first.accessToken.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>
  t.match(header, { typ: 'at+jwt', alg: 'ES256' }, 'a JWT access token typed at+jwt (RFC 9068), ES256')
  t.match(claims, { iss: issuer, aud: RESOURCE, sub: 'alice', client_id: CLIENT_ID, sid: String })
  for (const app of instances) {
    t.equal(await me(app, first.accessToken), 200, 'the API accepts the provider\'s token')
    t.equal(await me(app, second.accessToken), 200)
    t.equal(await me(app, first.idToken), 401, 'an ID token is not an access token (typ)')
  }
  const body = await (await instances[1]!.inject({ url: '/me', headers: bearer(first.accessToken) })).json()
  t.match(body, { sub: 'alice', sid: claims.sid })

  // RP-initiated logout: the provider asks for confirmation with a form, whose xsrf the browser posts back.
  const end = client.buildEndSessionUrl(config, { id_token_hint: first.idToken, post_logout_redirect_uri: redirectUri })
  const page = await (await first.go(end.href)).text()
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1]
  t.ok(xsrf, 'the provider shows its logout form')
  const confirmed = await first.go(`${issuer}/session/end/confirm`, {
    method: 'POST',
    body: new URLSearchParams({ xsrf: xsrf as string, logout: 'yes' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(confirmed.status, 303, 'the provider ended the session')
  await waitFor('the provider\'s back-channel logout', () => logouts === 1)
  for (const app of instances) {
    t.equal(await me(app, first.accessToken), 401, 'the session\'s token is refused on both instances')
    t.equal(await me(app, second.accessToken), 200, 'the other session goes on')
  }
  const third = await login('alice')
  t.equal(await me(instances[0]!, third.accessToken), 200, 'a new login works')
})

t.test('bad logout tokens (wrong key, issuer, audience; no events; a nonce; neither sub nor sid; too old; not a JWT): 400, nothing revoked', async (t) => {
  const session = await login('bob')
  const sid = (JSON.parse(Buffer.from(session.accessToken.split('.')[1] as string, 'base64url').toString()) as { sid: string }).sid
  const { createSigner } = await import('fast-jwt')
  // The provider's own signing key (the test configured it): every token below fails one check only.
  const providerKey = createPrivateKey({ key: rsa, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }) as string
  const strangerKey = makeKey('rsa-key', 'RS256').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
  const sign = (claims: Record<string, unknown>, key = providerKey): string => {
    const payload: Record<string, unknown> = {
      iss: issuer,
      aud: CLIENT_ID,
      iat: Math.floor(Date.now() / 1000),
      jti: crypto.randomUUID(),
      sub: 'bob',
      sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...claims
    }
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
    return createSigner({ key, algorithm: 'RS256', kid: 'rsa-key', expiresIn: 3_600_000, header: { alg: 'RS256', typ: 'logout+jwt' } })(payload)
  }
  const bad: Array<[string, string]> = [
    ['wrong key', sign({}, strangerKey)],
    ['wrong issuer', sign({ iss: 'https://other-provider.example' })],
    ['wrong audience', sign({ aud: 'another-client' })],
    ['no events', sign({ events: undefined })],
    ['a nonce', sign({ nonce: 'n' })],
    ['neither sub nor sid', sign({ sub: undefined, sid: undefined })],
    ['too old', sign({ iat: Math.floor(Date.now() / 1000) - 3000 })],
    ['not a JWT', 'not-a-jwt']
  ]
  for (const [name, token] of bad) {
    const response = await fetch(`${apiUrl}/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: token }) })
    t.equal(response.status, 400, name)
    t.equal(response.headers.get('cache-control'), 'no-store', name)
    t.equal((await response.json() as { error: string }).error, 'invalid_request', name)
  }
  for (const app of instances) t.equal(await me(app, session.accessToken), 200, 'nothing revoked')
  const good = await fetch(`${apiUrl}/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: sign({}) }) })
  t.equal(good.status, 200, 'the same token with nothing wrong is accepted (the failures above were each for one reason)')
  for (const app of instances) t.equal(await me(app, session.accessToken), 401)
})
