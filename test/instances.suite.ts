import t from 'tap'
import { bearer, buildApp, storeVariants } from './helpers/app.js'

t.test('two instances sharing one Redis see each other\'s revocations', async (t) => {
  const [, redis] = await storeVariants(t)
  if (redis === undefined) throw new Error('no redis variant')
  const a = await buildApp(redis.options())
  const b = await buildApp(redis.options())
  t.teardown(() => Promise.all([a.app.close(), b.app.close()]))
  const token = a.sign({ sub: 'shared' })
  t.equal((await b.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await a.app.revoke(token)
  t.equal((await b.app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  const other = b.sign({ sub: 'shared' })
  await b.app.revokeSubject('shared')
  t.equal((await a.app.inject({ url: '/me', headers: bearer(other) })).statusCode, 401)
})

t.test('a borrowed client is not closed; a client made from a URL is', async (t) => {
  const [, redis] = await storeVariants(t)
  if (redis?.redis === undefined) throw new Error('no redis variant')
  const borrowedOptions = redis.options()
  const borrowed = await buildApp(borrowedOptions)
  await borrowed.app.close()
  const client = borrowedOptions.redis as unknown as { ping: () => Promise<string> }
  t.equal(await client.ping(), 'PONG', 'the borrowed client still works')

  const owned = await buildApp({ redis: redis.redis.url })
  const token = owned.sign()
  await owned.app.revoke(token)
  t.equal(await owned.app.isRevoked(token), true)
  const store = owned.app.jwtRevoke.store as unknown as { client: { ping: () => Promise<string> } }
  await owned.app.close()
  await t.rejects(store.client.ping(), /closed/, 'closed on app.close()')
})
