import t from 'tap'
import { bearer, buildApp, storeVariants } from './helpers/app.js'

const variants = await storeVariants(t)

for (const variant of variants) {
  t.test(`${variant.name} store: bad claims get clear errors and change nothing`, async (t) => {
    const { app, sign } = await buildApp(variant.options())
    t.teardown(() => app.close())
    const before = await app.inject({ url: '/public' })
    t.equal(before.statusCode, 200)

    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['no jti', { jti: undefined }, 'FST_JWT_REVOKE_NO_JTI'],
      ['numeric jti', { jti: 42 }, 'FST_JWT_REVOKE_INVALID_CLAIM'],
      ['object jti', { jti: { a: 1 } }, 'FST_JWT_REVOKE_INVALID_CLAIM'],
      ['array jti', { jti: ['a'] }, 'FST_JWT_REVOKE_INVALID_CLAIM'],
      ['empty jti', { jti: '' }, 'FST_JWT_REVOKE_INVALID_CLAIM'],
      ['numeric sub', { sub: 7 }, 'FST_JWT_REVOKE_INVALID_CLAIM']
    ]
    for (const [name, claims, code] of cases) {
      const token = sign(claims)
      const refused = await app.inject({ url: '/me', headers: bearer(token) })
      t.equal(refused.statusCode, 401, `${name}: authenticate answers 401`)
      t.equal(refused.json().code, code, `${name}: with ${code}`)
      t.equal((await app.inject({ url: '/public', headers: bearer(token) })).statusCode, 200, `${name}: public routes still serve`)
      await t.rejects(app.revoke(token), { code }, `${name}: revoke refuses it`)
    }
    // fast-jwt signs neither a non-numeric exp nor iat, so these come as payloads: the app's own mistakes, not a client's.
    await t.rejects(app.revoke({ sub: null, jti: 'x', exp: 'tomorrow' }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500 })
    await t.rejects(app.revoke({ sub: null, jti: 'x', exp: 9e9, iat: Number.NaN }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT' })
    await t.rejects(app.revoke('not-a-token'), { code: 'FST_JWT_REVOKE_INVALID_TOKEN' })
    await t.rejects(app.revoke(app.jwt.sign({ jti: 'x' }, { key: 'another-secret-entirely' })), { code: 'FST_JWT_REVOKE_INVALID_TOKEN' })
    await t.rejects(app.revoke(app.jwt.sign({ sub: 'a', jti: 'y' })), { code: 'FST_JWT_REVOKE_NO_EXP' })
    await t.rejects(app.revoke('string payload' as unknown as Record<string, unknown>), { code: 'FST_JWT_REVOKE_INVALID_TOKEN' })
    await t.rejects(app.revoke(null as unknown as Record<string, unknown>), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT' })
    await t.rejects(app.isRevoked('garbage'), { code: 'FST_JWT_REVOKE_INVALID_TOKEN' })
    await t.rejects(app.revokeSubject(''), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500 })
    await t.rejects(app.revokeSubject(42 as unknown as string), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500 })
    await t.rejects(app.revokeSubject('a', { before: Number.NaN }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500 })
    await t.rejects(app.revokeSubject('a', { before: new Date('nope') }), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500 })
    // The application's own mistakes are programmer errors (500), never a 401 that blames the client.
    const programmerErrors: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['a number', async () => await app.revoke(42 as unknown as string), /not number/],
      ['an array', async () => await app.isRevoked([] as unknown as string), /not an array/],
      ['no sub key', async () => await app.revoke({ jti: 'x', exp: 9e9 }), /must carry "sub"/],
      ['no exp, no maxTokenLifetime', async () => await app.revoke({ sub: 'a', jti: 'x' }), /no "exp" and maxTokenLifetime is not set/],
      ['no jti', async () => await app.revoke({ sub: 'a', exp: 9e9 }), /no "jti" claim/],
      ['exp in milliseconds', async () => await app.revoke({ sub: 'a', jti: 'x', exp: Date.now() + 60_000 }), /"exp" is \d+, which looks like milliseconds/],
      ['iat in milliseconds', async () => await app.isRevoked({ sub: 'a', jti: 'x', iat: Date.now() }), /"iat" is \d+, which looks like milliseconds/],
      ['before as a string', async () => await app.revokeSubject('a', { before: '2026-01-01' as unknown as number }), /"before" must be a Date or Unix seconds/]
    ]
    for (const [name, call, message] of programmerErrors) {
      await t.rejects(call(), { code: 'FST_JWT_REVOKE_INVALID_ARGUMENT', statusCode: 500, message }, name)
    }
    t.ok(await app.revoke(42 as unknown as string).catch((error: unknown) => error) instanceof TypeError, 'a TypeError, as Node answers a wrong argument')
    t.same(app.jwtRevoke.stats().revocations, 0, 'nothing was written')
    if (variant.client !== undefined) t.equal(await variant.client.dbsize(), 0, 'Redis holds no key')
    else t.equal((app.jwtRevoke.store as { size?: number }).size, 0, 'the memory store holds no entry')
  })

  t.test(`${variant.name} store: TTLs end when the token would have expired`, async (t) => {
    const { app, sign } = await buildApp(variant.options({ clockSkew: 30, maxTokenLifetime: 600 }))
    t.teardown(() => app.close())
    const token = sign({ sub: 'ttl-user', jti: 'ttl-jti' }, { expiresIn: 100 })
    await app.revoke(token)
    const noExp = app.jwt.sign({ sub: 'ttl-user', jti: 'no-exp' })
    await app.revoke(noExp)
    t.equal(await app.isRevoked(noExp), true, 'a token without exp is revoked when maxTokenLifetime bounds it')
    await app.revoke({ sub: 'ttl-user', jti: 'no-iat' })
    t.equal(await app.isRevoked({ sub: 'ttl-user', jti: 'no-iat' }), true, 'without exp nor iat: kept maxTokenLifetime from now')
    const cutoff = await app.revokeSubject('ttl-user')
    t.ok(Math.abs(cutoff - Date.now() / 1000) < 2, 'revokeSubject resolves with the cutoff it recorded')
    const old = Math.floor(Date.now() / 1000) - 700
    t.equal(await app.revokeSubject('ttl-user', { before: old }), old, 'a cutoff older than any live token is a no-op')
    t.equal(app.jwtRevoke.stats().revocations, 4)
    if (variant.client === undefined) return
    const client = variant.client
    const ttl = await client.ttl('jwt-revoke:{ttl-user}:jti:ttl-jti')
    t.ok(ttl > 120 && ttl <= 130, `jti TTL is exp + clockSkew (${ttl})`)
    const noExpTtl = await client.ttl('jwt-revoke:{ttl-user}:jti:no-exp')
    t.ok(noExpTtl > 620 && noExpTtl <= 630, `without exp: iat + maxTokenLifetime + clockSkew (${noExpTtl})`)
    const cutoffTtl = await client.ttl('jwt-revoke:{ttl-user}:cutoff')
    t.ok(cutoffTtl > 620 && cutoffTtl <= 630, `cutoff TTL is maxTokenLifetime + clockSkew (${cutoffTtl})`)
    t.match(await client.get('jwt-revoke:{ttl-user}:cutoff'), /^\d+(\.\d{1,3})?$/, 'the cutoff, exact to the millisecond')
    const keys = await client.keys('*')
    t.notOk(keys.some((key) => key.includes('.')), 'no key holds a token')
    for (const key of keys) t.notOk((await client.get(key))?.includes('eyJ'), 'no value holds a token')
  })
}
