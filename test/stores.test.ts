// The stores and what they are built from (the deny-list, the mirror's messages, the Redis store and its batched
// MGET), the Redis provisioning of `npm test`, and the layout of the test suites themselves: suites that each take
// well under a second, in one process (see test/suites.suite.ts).
import t from 'tap'

// For all of them together; tap's 30 s default is for one file's worth.
t.setTimeout(240_000)

// Each suite adds its tests to this file's root as it loads, and some first await a set-up (a redis-server): loaded
// inside a test, so that tap never finds the root idle in between and ends it early. The tests run after it.
t.test('the suites load', async (t) => {
  await import('./deny-list.suite.js')
  await import('./mirror-message.suite.js')
  await import('./redis-store.suite.js')
  await import('./mget-batch.suite.js')
  await import('./provision-redis.suite.js')
  await import('./suites.suite.js')
  t.pass('6 suites loaded')
})
