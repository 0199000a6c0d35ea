import fastifyJwt from '@fastify/jwt'
import fc from 'fast-check'
import Fastify from 'fastify'
import t from 'tap'
import jwtRevoke, { type JwtRevokeOptions } from '../../index.js'
import { SECRET } from '../helpers/app.js'

// Issue 4: every invalid option fails at register with FST_JWT_REVOKE_INVALID_OPTION and a message naming it; every
// valid value registers. Generated values, per option, on top of test/options.suite.ts's examples.

type Outcome = { ok: true } | { ok: false, code: unknown, message: string }

async function registerWith (options: unknown): Promise<Outcome> {
  const app = Fastify()
  try {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(jwtRevoke, options as JwtRevokeOptions)
    await app.ready()
    return { ok: true }
  } catch (error) {
    return { ok: false, code: (error as { code?: unknown }).code, message: String((error as Error).message) }
  } finally {
    await app.close()
  }
}

const integer = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max })
const notInteger = fc.oneof(fc.double({ noInteger: true }), fc.constantFrom(Number.NaN, Infinity, -Infinity))
const notNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 2 }), fc.object({ maxDepth: 1 }),
  fc.nat().map(String))
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }))

/** Per option: values that must be refused, and values that must be accepted. */
const options: Record<string, { invalid: fc.Arbitrary<unknown>, valid?: fc.Arbitrary<unknown> }> = {
  storeTimeout: { invalid: fc.oneof(notNumber, notInteger, integer(-1e9, 0), integer(60_001, 1e12)), valid: integer(1, 60_000) },
  clockSkew: { invalid: fc.oneof(notNumber, notInteger, integer(-1e9, -1), integer(86_401, 1e12)), valid: integer(0, 86_400) },
  maxTokenLifetime: { invalid: fc.oneof(notNumber, notInteger, integer(-1e9, 0)), valid: integer(1, 1e9) },
  maxEntries: { invalid: fc.oneof(notNumber, notInteger, integer(-1e9, 0)), valid: integer(1, 1e9) },
  onStoreError: { invalid: fc.oneof(notString, fc.string().filter((s) => s !== 'deny' && s !== 'allow')), valid: fc.constantFrom('deny', 'allow') },
  requireJti: { invalid: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.object({ maxDepth: 1 })), valid: fc.boolean() },
  keyPrefix: {
    invalid: fc.oneof(notString, fc.string({ minLength: 65, maxLength: 100 }).filter((s) => /^[^{}\s]*$/.test(s)),
      fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('{', '}', ' ', '\n', '\t'), fc.string({ maxLength: 10 })).map((parts) => parts.join(''))),
    valid: fc.stringMatching(/^[a-zA-Z0-9:_.-]{0,64}$/)
  },
  store: {
    invalid: fc.oneof(fc.string().filter((s) => s !== 'memory' && s !== 'redis'), fc.integer(), fc.boolean(), fc.constant('redis'),
      fc.subarray(['isRevoked', 'revoke', 'revokeSubject'], { maxLength: 2 }).map((names) => Object.fromEntries(names.map((n) => [n, () => false])))),
    valid: fc.constant('memory')
  },
  redis: {
    invalid: fc.oneof(fc.string().filter((s) => !/^rediss?:\/\//.test(s)), fc.integer(), fc.boolean(),
      fc.subarray(['mget', 'exists', 'set', 'eval'], { maxLength: 3 }).map((names) => Object.fromEntries(names.map((n) => [n, () => null]))))
    // Valid URLs and clients connect: test/options.suite.ts and the Redis tests cover them.
  }
}

for (const [name, { invalid, valid }] of Object.entries(options)) {
  t.test(`${name}: every generated invalid value fails register naming "${name}"${valid === undefined ? '' : '; valid values register'}`, async (t) => {
    await fc.assert(fc.asyncProperty(invalid, async (value) => {
      const outcome = await registerWith({ [name]: value })
      return !outcome.ok && outcome.code === 'FST_JWT_REVOKE_INVALID_OPTION' && outcome.message.includes(`"${name}"`)
    }), { numRuns: 40 })
    t.pass(`invalid ${name} values refused`)
    if (valid === undefined) return
    await fc.assert(fc.asyncProperty(valid, async (value) => (await registerWith({ [name]: value })).ok), { numRuns: 10 })
    t.pass(`valid ${name} values accepted`)
  })
}

t.test('an unknown option (a typo) fails register naming it', async (t) => {
  await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 20 }).filter((key) => !(key in options) && key !== '__proto__'),
    async (key) => {
      const outcome = await registerWith({ [key]: 1 })
      return !outcome.ok && outcome.code === 'FST_JWT_REVOKE_INVALID_OPTION' && outcome.message.includes(`"${key}"`)
    }), { numRuns: 40, examples: [['storeTimeOut'], ['redisUrl'], ['a/b'], ['~x'], ['toString']] })
  t.pass('typos refused, each named as typed (JSON-pointer escapes such as "~0" decoded)')
})
