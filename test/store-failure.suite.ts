import t from 'tap'
import type { RevocationStore } from '../index.js'
import { bearer, buildApp, collectLogs, storeVariants } from './helpers/app.js'

type Mode = 'throws' | 'rejects' | 'rejects with a string' | 'hangs'

function brokenStore (mode: Mode): RevocationStore {
  const fail = (): Promise<never> => {
    if (mode === 'throws') throw new Error('store exploded')
    if (mode === 'rejects') return Promise.reject(new Error('store said no'))
    // eslint-disable-next-line prefer-promise-reject-errors
    if (mode === 'rejects with a string') return Promise.reject('not even an Error')
    return new Promise<never>(() => {})
  }
  return { isRevoked: fail, revoke: fail, revokeSubject: fail }
}

for (const mode of ['throws', 'rejects', 'rejects with a string', 'hangs'] as const) {
  t.test(`a store that ${mode}: 503 under deny, pass under allow, never a hang`, async (t) => {
    const deny = collectLogs('error')
    const denying = await buildApp({ store: brokenStore(mode), storeTimeout: 30 }, {}, { logger: deny.logger })
    t.teardown(() => denying.app.close())
    const token = denying.sign()
    for (let i = 0; i < 3; i++) {
      const reply = await denying.app.inject({ url: '/me', headers: bearer(token) })
      t.equal(reply.statusCode, 503)
      t.equal(reply.json().code, 'FST_JWT_REVOKE_STORE_UNAVAILABLE')
    }
    t.equal((await denying.app.inject({ url: '/public' })).statusCode, 200, 'requests without a token are not affected')
    await t.rejects(denying.app.revoke(token), { code: 'FST_JWT_REVOKE_STORE_UNAVAILABLE' })
    await t.rejects(denying.app.revokeSubject('user-1'), { code: 'FST_JWT_REVOKE_STORE_UNAVAILABLE' })
    await t.rejects(denying.app.isRevoked(token), { code: 'FST_JWT_REVOKE_STORE_UNAVAILABLE' })
    const storeLines = deny.lines.filter((line) => String(line.msg).includes('revocation store failed'))
    t.equal(storeLines.length, 1, 'a burst of failures is logged once')
    t.equal(storeLines[0]?.url, '/me', 'with the route')
    t.notOk(JSON.stringify(deny.lines).includes(token), 'never with the token')
    const ours = deny.lines.map((line) => String(line.msg)).filter((msg) => msg.startsWith('jwt-revoke:'))
    t.same(ours, [
      'jwt-revoke: the revocation store failed; answering 503 (onStoreError: deny)',
      'jwt-revoke: revoke failed in the revocation store',
      'jwt-revoke: revokeSubject failed in the revocation store'
    ], 'our own lines: one for the burst of checks, one per failed write')
    const stats = denying.app.jwtRevoke.stats()
    t.equal(stats.storeErrors, 3)
    t.equal(stats.failOpenPasses, 0)

    const allow = collectLogs('error')
    const allowing = await buildApp({ store: brokenStore(mode), storeTimeout: 30, onStoreError: 'allow' }, {}, { logger: allow.logger })
    t.teardown(() => allowing.app.close())
    const passed = await allowing.app.inject({ url: '/me', headers: bearer(allowing.sign()) })
    t.equal(passed.statusCode, 200)
    t.equal(allowing.app.jwtRevoke.stats().failOpenPasses, 1)
    t.match(allow.lines[0]?.msg, 'letting the request through')
  })
}

t.test('failures a second apart are logged again, with the count in between', async (t) => {
  const logs = collectLogs('error')
  const { app, sign } = await buildApp({ store: brokenStore('rejects') }, {}, { logger: logs.logger })
  t.teardown(() => app.close())
  const token = sign()
  await app.inject({ url: '/me', headers: bearer(token) })
  await app.inject({ url: '/me', headers: bearer(token) })
  await new Promise((resolve) => setTimeout(resolve, 1100))
  await app.inject({ url: '/me', headers: bearer(token) })
  const lines = logs.lines.filter((line) => String(line.msg).includes('store failed'))
  t.equal(lines.length, 2)
  t.equal(lines[1]?.suppressedSinceLastLog, 1)
})

for (const name of ['redis', 'redis-pipelined'] as const) {
  t.test(`${name}: a real redis-server stopped mid-test: 503 under deny, pass under allow, recovery when it is back`, async (t) => {
    const redis = (await storeVariants(t)).find((variant) => variant.name === name)
    if (redis?.redis === undefined) throw new Error('no redis variant')
    const denying = await buildApp(redis.options({ storeTimeout: 100 }))
    const allowing = await buildApp(redis.options({ storeTimeout: 100, onStoreError: 'allow' }))
    t.teardown(() => Promise.all([denying.app.close(), allowing.app.close()]))
    const revoked = denying.sign()
    const fine = denying.sign()
    await denying.app.revoke(revoked)
    t.equal((await denying.app.inject({ url: '/me', headers: bearer(fine) })).statusCode, 200)

    await redis.redis.stop()
    const started = Date.now()
    const down = await denying.app.inject({ url: '/me', headers: bearer(revoked) })
    t.equal(down.statusCode, 503)
    t.ok(Date.now() - started < 2000, 'answered without hanging')
    t.equal((await denying.app.inject({ url: '/me', headers: bearer(fine) })).statusCode, 503)
    t.equal((await allowing.app.inject({ url: '/me', headers: bearer(fine) })).statusCode, 200, 'allow lets it pass')

    await redis.redis.start()
    let status = 0
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await denying.app.inject({ url: '/me', headers: bearer(fine) })).statusCode
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(status, 200, 'recovered without a restart')
  })
}
