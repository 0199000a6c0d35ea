import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { cutoffKey, encodeId, jtiKey } from '../../lib/keys.js'
import { bearer, buildApp, storeVariants } from '../helpers/app.js'
import { algorithmConfusionCases, goodClaims, hmacToken, hostileCases, rsaPair, type HostileCase } from '../helpers/hostile-tokens.js'
import { denyListSize, rejection } from '../helpers/reliability.js'

// Issue 4, hostile input: every malformed, forged or odd token gets a clear 4xx (never a 500), nothing enters the
// deny-list, and ids full of Redis-significant characters can neither collide with other keys nor move to another slot.

const PREFIX = 'jwt-revoke:'
const variants = await storeVariants(t)
const rsa = rsaPair()

interface Verdict { me: number, code: unknown, public: number, revoke: string }

async function throwAt (app: FastifyInstance, hostile: HostileCase): Promise<Verdict> {
  const headers = { authorization: hostile.authorization }
  const me = await app.inject({ url: '/me', headers })
  const publicRoute = await app.inject({ url: '/public', headers })
  let revoke = 'resolved'
  try {
    await app.revoke(hostile.token)
  } catch (error) {
    revoke = String((error as { code?: unknown }).code)
  }
  return { me: me.statusCode, code: me.json().code, public: publicRoute.statusCode, revoke }
}

function judge (t: Test, hostile: HostileCase, verdict: Verdict): void {
  const what = `${hostile.name}: ${verdict.me} ${String(verdict.code)}`
  t.ok(verdict.me >= 400 && verdict.me < 500, `${what} is a 4xx`)
  t.match(verdict.code, /^(FST|FAST)_JWT_[A-Z_]+$/, `${what} explains itself with an error code`)
  t.ok(verdict.public < 500, `${hostile.name}: a public route answers ${verdict.public}, not a 5xx`)
  if (hostile.revokeIsNoop === true) t.equal(verdict.revoke, 'resolved', `${hostile.name}: revoke() is a no-op`)
  else t.match(verdict.revoke, /^FST_JWT_REVOKE_(INVALID_TOKEN|INVALID_CLAIM|NO_JTI)$/, `${hostile.name}: revoke() rejects (${verdict.revoke})`)
}

for (const variant of variants) {
  t.test(`${variant.name} store: every hostile token form`, async (t) => {
    const { app, sign } = await buildApp(variant.options())
    t.teardown(() => app.close())
    const before = await denyListSize(app)
    for (const hostile of hostileCases(rsa)) judge(t, hostile, await throwAt(app, hostile))
    t.equal(await denyListSize(app), before, 'the deny-list gained nothing')
    t.equal((await app.inject({ url: '/me', headers: bearer(sign()) })).statusCode, 200, 'and the app still serves')
  })
}

t.test('RS256 app: algorithm confusion (HS256 signed with the public key), alg none', async (t) => {
  const { app, sign } = await buildApp({ store: 'memory' }, {
    secret: { private: rsa.privateKey, public: rsa.publicKey }, sign: { algorithm: 'RS256' }
  })
  t.teardown(() => app.close())
  for (const hostile of algorithmConfusionCases(rsa)) judge(t, hostile, await throwAt(app, hostile))
  t.equal(await denyListSize(app), 0, 'the deny-list gained nothing')
  t.equal((await app.inject({ url: '/me', headers: bearer(sign()) })).statusCode, 200, 'its own RS256 tokens pass')
})

/** Sends one raw HTTP request over a real socket and returns the status line's code. */
async function rawStatus (port: number, authorization: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    let response = ''
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(`GET /me HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: ${authorization}\r\n\r\n`)
    })
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { response += chunk })
    // The server may close before it has read the whole header: a reset after the answer is expected.
    socket.on('error', () => {})
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]
      if (status === undefined) reject(new Error(`no HTTP answer: ${JSON.stringify(response.slice(0, 200))}`))
      else resolve(Number(status))
    })
  })
}

t.test('over a real socket: a 1 MB header gets 431 and the server keeps serving; a 10 KB one gets 401', async (t) => {
  const { app, sign } = await buildApp({ store: 'memory' })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  t.equal(await rawStatus(port, `Bearer ${'A'.repeat(1024 * 1024)}`), 431)
  t.equal(await rawStatus(port, `Bearer ${'A'.repeat(10 * 1024)}`), 401)
  t.equal(await rawStatus(port, `Bearer ${sign()}`), 200, 'still serving')
})

/** Ids full of what means something to Redis (glob, hash tag, separator) or to a protocol (space, newline, NUL). */
const oddIds = [
  'a:b', 'jti:x', '*', '?[a-z]*', '{', '}', '{tag}', '}{', 'a b', ' ', 'line\nbreak', '\r\n', 'nul\0byte', '\0',
  'ünïcødé', '🔑🔑', 'x'.repeat(128), 'x'.repeat(129), 'y'.repeat(10 * 1024), '~not-a-hash', '%s%n', '$(reboot)'
]

for (const variant of variants) {
  t.test(`${variant.name} store: signed tokens with odd jti and sub are accepted, revocable, stored once`, async (t) => {
    const { app, sign } = await buildApp(variant.options())
    t.teardown(() => app.close())
    const status = async (token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
    for (const [i, odd] of oddIds.entries()) {
      const name = JSON.stringify(odd.length > 40 ? `${odd.slice(0, 10)}... (${odd.length} chars)` : odd)
      const asJti = sign({ jti: odd, sub: `odd-${i}` })
      const asSub = sign({ sub: odd })
      const neighbour = sign({ sub: odd })
      t.equal(await status(asJti), 200, `jti ${name} accepted`)
      t.equal(await status(asSub), 200, `sub ${name} accepted`)
      const before = await denyListSize(app)
      await app.revoke(asJti)
      await app.revoke(asSub)
      t.equal(await denyListSize(app), before + 2, `${name}: each revoke stored exactly one entry`)
      t.equal(await status(asJti), 401, `jti ${name} refused once revoked`)
      t.equal(await status(asSub), 401, `sub ${name} refused once revoked`)
      t.equal(await status(neighbour), 200, `another token of sub ${name} is untouched`)
      if (variant.client !== undefined) {
        const keys = [jtiKey(PREFIX, odd, `odd-${i}`), jtiKey(PREFIX, app.jwt.decode<{ jti: string }>(asSub)!.jti, odd)]
        t.same(await Promise.all(keys.map((key) => variant.client!.exists(key))), [1, 1], `${name}: stored under the encoded key`)
        t.ok(keys.every((key) => key.length < 200), `${name}: keys stay short`)
      }
    }
    await app.revokeSubject(oddIds[5]!)
    t.equal(await status(sign({ sub: oddIds[6]! })), 200, 'revokeSubject("}") leaves sub "{tag}" alone')
  })
}

interface Identity { jti: string, sub: string | undefined }

/** Pairs of distinct (jti, sub) identities that a careless key scheme would merge; `u` keeps each run's subjects apart. */
const lookalikes: Array<[string, (u: string) => [Identity, Identity]]> = [
  ['sub/jti split', (u) => [{ sub: `a${u}`, jti: 'b:c' }, { sub: `a${u}:b`, jti: 'c' }]],
  ['jti shaped like a key', (u) => [{ sub: `s${u}`, jti: 'jti:x' }, { sub: `s${u}:jti`, jti: 'x' }]],
  ['hash tag in sub', (u) => [{ sub: `{x${u}}`, jti: 'j' }, { sub: `x${u}`, jti: 'j' }]],
  ['plain id vs its hashed form', (u) => [{ sub: `s${u}`, jti: encodeId('a b') }, { sub: `s${u}`, jti: 'a b' }]],
  ['128 vs 129 characters', (u) => [{ sub: `s${u}`, jti: 'x'.repeat(128) }, { sub: `s${u}`, jti: 'x'.repeat(129) }]],
  ['case', (u) => [{ sub: `User${u}`, jti: 'j' }, { sub: `user${u}`, jti: 'j' }]],
  ['no sub vs a sub equal to the jti', (u) => [{ sub: undefined, jti: u }, { sub: u, jti: u }]],
  ['no sub vs a jti shaped like "<length>:<sub>:<jti>"', (u) => [
    { sub: undefined, jti: `${u.length + 3}:abc${u}:def` }, { sub: `abc${u}`, jti: 'def' }
  ]]
]

for (const variant of variants) {
  t.test(`${variant.name} store: revoking one identity never revokes a lookalike`, async (t) => {
    const { app, sign } = await buildApp(variant.options())
    t.teardown(() => app.close())
    const status = async (token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
    for (const [name, pair] of lookalikes) {
      const [a, b] = pair(randomUUID()).map((identity) => sign({ ...identity })) as [string, string]
      await app.revoke(a)
      t.equal(await status(a), 401, `${name}: the revoked one is refused`)
      t.equal(await status(b), 200, `${name}: its lookalike is still accepted`)
    }
  })
}

/** The hash tag Redis Cluster hashes: the text between the first '{' and the next '}', when not empty. */
function hashTag (key: string): string {
  const open = key.indexOf('{')
  const close = key.indexOf('}', open + 1)
  return open !== -1 && close > open + 1 ? key.slice(open + 1, close) : key
}

t.test('key scheme properties (fast-check): one slot per subject, no escape from the tag, no collision', async (t) => {
  const id = fc.oneof(fc.string({ minLength: 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
    fc.constantFrom(...oddIds), fc.stringMatching(/^[{}:*\s\0a-z]{1,12}$/))
  fc.assert(fc.property(id, id, (jti, sub) => {
    const tag = hashTag(cutoffKey(PREFIX, sub))
    return tag === encodeId(sub) && hashTag(jtiKey(PREFIX, jti, sub)) === tag &&
      hashTag(jtiKey(PREFIX, jti, undefined)) === encodeId(jti) && /^[\w.@=+~-]{1,128}$/.test(tag)
  }), { numRuns: 5000 })
  t.pass('every jti key sits in its subject\'s slot, and every tag is a short, brace-free encoded id')

  fc.assert(fc.property(fc.uniqueArray(id, { minLength: 2, maxLength: 20 }), (ids) => new Set(ids.map(encodeId)).size === ids.length),
    { numRuns: 2000 })
  t.pass('encodeId is injective')

  fc.assert(fc.property(id, id, id, (jti, sub, otherSub) => cutoffKey(PREFIX, otherSub) !== jtiKey(PREFIX, jti, sub) &&
    cutoffKey(PREFIX, otherSub) !== jtiKey(PREFIX, jti, undefined)), { numRuns: 3000 })
  t.pass('a jti key is never a cutoff key')

  const twoSubjects = fc.tuple(id, id).filter(([a, b]) => a !== b)
  fc.assert(fc.property(id, twoSubjects, (jti, [subA, subB]) => jtiKey(PREFIX, jti, subA) !== jtiKey(PREFIX, jti, subB)),
    { numRuns: 2000 })
  t.pass('one jti under two subjects makes two keys')
  t.not(jtiKey(PREFIX, 'same', undefined), jtiKey(PREFIX, 'same', 'same'),
    'a token without sub and a token whose sub equals its jti have different keys')
})

t.test('app.revoke() with a bad string or payload rejects and stores nothing', async (t) => {
  const { app } = await buildApp({ store: 'memory' })
  t.teardown(() => app.close())
  const bad: unknown[] = ['', ' ', 'Bearer x', 'a.b.c', '\0', 'x'.repeat(1024 * 1024), hmacToken(goodClaims(), 'wrong-secret-wrong-secret'),
    {}, { jti: 5, exp: 9e9 }, { jti: 'x' }, { jti: '', exp: 9e9 }, { jti: 'x', exp: 'soon' }, { jti: 'x', sub: 5, exp: 9e9 }]
  for (const value of bad) {
    const error = await rejection(app.revoke(value as string))
    t.match(error.code, /^FST_JWT_REVOKE_/, `${JSON.stringify(value).slice(0, 40)}: ${String(error.code)}`)
  }
  for (const sub of ['', 5, null, undefined, {}] as unknown[]) {
    t.match((await rejection(app.revokeSubject(sub as string))).code, /^FST_JWT_REVOKE_/, `revokeSubject(${JSON.stringify(sub)})`)
  }
  for (const before of [Number.NaN, Infinity, new Date('nope')]) {
    t.match((await rejection(app.revokeSubject('s', { before }))).code, /^FST_JWT_REVOKE_/, `revokeSubject before ${String(before)}`)
  }
  t.equal(await denyListSize(app), 0)
})
