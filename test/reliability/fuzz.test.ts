import fc from 'fast-check'
import t from 'tap'
import { bearer, buildApp, SECRET, storeVariants, type TestApp } from '../helpers/app.js'
import { base64url, compact, goodClaims, hmacToken } from '../helpers/hostile-tokens.js'
import { denyListSize } from '../helpers/reliability.js'

// Issue 4: thousands of generated tokens and Authorization headers thrown at running apps (memory and Redis stores).
// Nothing may answer 5xx or crash, no unverified token may pass an authenticated route, and the deny-list may never
// gain an entry from one, not even when the token is handed to app.revoke() directly.

// Generous for a busy 2-core machine (thousands of generated requests); tap's default is 30 s per file.
t.setTimeout(120_000)

const RUNS = 2000

const variants = await storeVariants(t)
const apps: TestApp[] = await Promise.all(variants.map((variant) => buildApp(variant.options())))
t.teardown(() => Promise.all(apps.map(({ app }) => app.close())))
const [{ app: reference, sign }] = apps as [TestApp]

const jsonPart = fc.oneof(fc.json(), fc.jsonValue().map((value) => JSON.stringify(value)), fc.string())
const algorithm = fc.oneof(fc.constantFrom('none', 'None', 'HS256', 'HS512', 'RS256', 'ES256', 'EdDSA', ''), fc.string())
const claimValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string()),
  fc.object(), fc.string({ unit: 'binary', maxLength: 2000 }))
// fast-jwt throws a RangeError (a 500) for an exp or nbf beyond what a Date holds (about 8.64e12 s) while it writes its
// error message: only a token signed with the app's own secret can carry one, so the signed tokens stay within it.
const dateValue = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.object(), fc.double({ min: -8e12, max: 8e12 }))
const claims = fc.record({ jti: claimValue, sub: claimValue, iat: claimValue, exp: dateValue, nbf: dateValue }, { requiredKeys: [] })
const signature = fc.oneof(fc.constant(''), fc.base64String(), fc.string(), fc.uint8Array({ minLength: 32, maxLength: 64 }).map((b) => base64url(Buffer.from(b))))

/** A token an attacker could make without the secret. */
const forged = fc.oneof(
  // Three (or some other number of) parts of anything.
  fc.array(jsonPart.map((part) => base64url(part)), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')),
  // A well-formed header and claims under a made-up algorithm and signature.
  fc.tuple(algorithm, claims, signature).map(([alg, payload, sig]) => compact({ alg, typ: 'JWT' }, payload, sig)),
  // Our own kind of claims, signed with the wrong secret.
  fc.tuple(fc.string({ minLength: 1 }), claims).map(([secret, payload]) => hmacToken({ ...goodClaims(), ...payload }, secret)),
  // A valid token, altered: a character replaced, the signature cut, or parts swapped.
  fc.tuple(fc.nat(), fc.constantFrom(...'ABCxyz019-_.=+/ '.split('')), fc.constantFrom('replace', 'cut', 'swap')).map(([at, char, how]) => {
    const token = sign()
    if (how === 'cut') return token.slice(0, at % token.length)
    const [header, payload, sig] = token.split('.') as [string, string, string]
    if (how === 'swap') return `${payload}.${header}.${sig}`
    const i = at % token.length
    return token.slice(0, i) + char + token.slice(i + 1)
  })
)

/** An Authorization header value around a forged token, or no token at all. */
const header = fc.oneof(
  forged.map((token) => ({ authorization: `Bearer ${token}`, token })),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', ''), fc.string({ maxLength: 3 }), forged)
    .map(([scheme, gap, token]) => ({ authorization: `${scheme}${gap}${token}`, token })),
  fc.string({ unit: 'binary', maxLength: 300 }).map((raw) => ({ authorization: raw, token: raw }))
)

function verifies (token: string): boolean {
  try {
    reference.jwt.verify(token)
    return true
  } catch {
    return false
  }
}

t.test(`${RUNS} generated headers: no 5xx, no acceptance, nothing stored`, async (t) => {
  const sizes = await Promise.all(apps.map(({ app }) => denyListSize(app)))
  let verified = 0
  const failures: string[] = []
  await fc.assert(fc.asyncProperty(header, async ({ authorization, token }) => {
    // A mutation may leave a token valid (a base64 character with unused bits): it is ours, then, and not forged.
    const genuine = verifies(token)
    if (genuine) verified++
    for (const [i, { app }] of apps.entries()) {
      const me = await app.inject({ url: '/me', headers: { authorization } })
      const open = await app.inject({ url: '/public', headers: { authorization } })
      if (me.statusCode >= 500 || open.statusCode >= 500) failures.push(`${variants[i]!.name}: ${me.statusCode}/${open.statusCode} ${me.body.slice(0, 120)}`)
      if (!genuine && me.statusCode < 400) throw new Error(`accepted an unverified token: ${JSON.stringify(authorization)}`)
      if (genuine) continue
      const revoked = await app.revoke(token).then(() => true, () => false)
      if (revoked) throw new Error(`app.revoke() accepted an unverified token: ${JSON.stringify(token)}`)
      if (await denyListSize(app) !== sizes[i]) throw new Error(`the deny-list grew after ${JSON.stringify(token)}`)
    }
  }), { numRuns: RUNS })
  t.same(failures.slice(0, 20), [], `no 5xx over ${RUNS} headers x ${apps.length} stores (${failures.length} found)`)
  t.same(await Promise.all(apps.map(({ app }) => denyListSize(app))), sizes, 'no entry was ever added')
  t.comment(`${verified} of ${RUNS} altered tokens still verified (unused base64 bits) and were left out of the revoke check`)
  for (const { app } of apps) t.equal((await app.inject({ url: '/me', headers: bearer(sign()) })).statusCode, 200, 'still serving')
})

t.test('generated claims signed with the secret: a verified token is accepted or refused with a 4xx, never a 5xx', async (t) => {
  const failures: string[] = []
  await fc.assert(fc.asyncProperty(claims, async (payload) => {
    const token = hmacToken({ ...goodClaims(), ...payload }, SECRET)
    for (const { app } of apps) {
      const status = (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
      if (status >= 500) failures.push(`${status}: ${JSON.stringify(payload).slice(0, 120)}`)
      await app.revoke(token).catch((error: { code?: string }) => {
        if (!String(error.code).startsWith('FST_JWT_REVOKE_')) throw error
      })
    }
  }), { numRuns: 500 })
  t.same(failures.slice(0, 20), [], `no 5xx (${failures.length} found)`)
})
