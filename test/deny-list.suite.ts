import t from 'tap'
import { MemoryStore } from '../index.js'
import { DenyList } from '../lib/stores/deny-list.js'

function clock (start = 1_000_000): { now: () => number, advance: (ms: number) => void } {
  let time = start
  return { now: () => time, advance: (ms) => { time += ms } }
}

t.test('entries expire lazily at their TTL', async (t) => {
  const { now, advance } = clock()
  const store = new MemoryStore({ now })
  await store.revoke({ jti: 'a', sub: 's' }, 10)
  t.equal(store.isRevoked({ jti: 'a', sub: 's' }), true)
  t.equal(store.isRevoked({ jti: 'a', sub: 'other' }), false, 'a jti is revoked for its own subject')
  t.equal(store.isRevoked({ jti: 'a' }), false)
  advance(10_000)
  t.equal(store.isRevoked({ jti: 'a', sub: 's' }), false)
  t.equal(store.size, 0, 'the expired entry was dropped when read')
})

t.test('subject and jti cannot be confused through separators', async (t) => {
  const store = new MemoryStore()
  await store.revoke({ jti: 'c', sub: 'a:b' }, 60)
  t.equal(store.isRevoked({ jti: 'b:c', sub: 'a' }), false)
  t.equal(store.isRevoked({ jti: 'c', sub: 'a:b' }), true)
})

t.test('cutoffs: iat at or before is revoked, later passes, no iat is revoked, they expire', async (t) => {
  const { now, advance } = clock()
  const store = new MemoryStore({ now })
  await store.revokeSubject('s', 100, 5)
  t.equal(store.isRevoked({ sub: 's', iat: 100 }), true)
  t.equal(store.isRevoked({ sub: 's', iat: 99 }), true)
  t.equal(store.isRevoked({ sub: 's', iat: 101 }), false)
  t.equal(store.isRevoked({ sub: 's' }), true)
  t.equal(store.isRevoked({ jti: 'x', sub: 's', iat: 101 }), false)
  await store.revokeSubject('s', 50, 5)
  t.equal(store.isRevoked({ sub: 's', iat: 90 }), true, 'an older cutoff does not replace a later one')
  await store.revokeSubject('s', 200, 5)
  t.equal(store.isRevoked({ sub: 's', iat: 150 }), true, 'a later cutoff replaces an older one')
  advance(5000)
  t.equal(store.isRevoked({ sub: 's', iat: 1 }), false)
  t.equal(store.size, 0)
})

t.test('revoking again keeps the longer TTL', async (t) => {
  const { now, advance } = clock()
  const list = new DenyList({ now })
  list.addToken('k', now() + 10_000)
  list.addToken('k', now() + 1_000)
  advance(5_000)
  t.equal(list.has('k', undefined, undefined), true)
  list.addToken('k', now() + 20_000)
  advance(10_000)
  t.equal(list.has('k', undefined, undefined), true)
})

t.test('bounded: sweeps when full, then refuses loudly rather than forgetting', async (t) => {
  const { now, advance } = clock()
  const store = new MemoryStore({ now, maxEntries: 2 })
  await store.revoke({ jti: 'a' }, 1)
  await store.revokeSubject('s', 1, 1)
  await t.rejects(store.revoke({ jti: 'b' }, 100), { code: 'FST_JWT_REVOKE_STORE_FULL', statusCode: 503 })
  await t.rejects(store.revokeSubject('t', 1, 100), { code: 'FST_JWT_REVOKE_STORE_FULL' })
  await store.revoke({ jti: 'a' }, 1)
  t.pass('an entry already present can be written again when full')
  advance(1000)
  await store.revoke({ jti: 'b' }, 100)
  t.equal(store.size, 1, 'the sweep made room by dropping both expired entries')
  t.equal(store.isRevoked({ jti: 'b' }), true)
})

t.test('writes sweep expired entries once per sweepInterval, with no timer', async (t) => {
  const { now, advance } = clock()
  const list = new DenyList({ now, sweepInterval: 1000 })
  list.addToken('old', now() + 10)
  list.addCutoff('old-sub', 1, now() + 10)
  advance(500)
  list.addToken('young', now() + 10_000)
  t.equal(list.size, 3, 'no sweep before the interval')
  advance(600)
  list.addToken('new', now() + 10_000)
  t.equal(list.size, 2, 'the sweep dropped the two expired entries')
  t.equal(list.sweep(), 0)
})
