// The plugin through Fastify apps: tokens and claims, every way a token is verified, the decorators, the options,
// several instances, a failing store. Suites that each take well under a second share one process (see
// test/suites.suite.ts for why and how); each can still run alone: `npx tap test/revoke.suite.ts`.
import t from 'tap'

// For all of them together; tap's 30 s default is for one file's worth.
t.setTimeout(240_000)

// Each suite adds its tests to this file's root as it loads, and some first await a set-up (a redis-server): loaded
// inside a test, so that tap never finds the root idle in between and ends it early. The tests run after it.
t.test('the suites load', async (t) => {
  await import('./token.suite.js')
  await import('./claims.suite.js')
  await import('./edge-claims.suite.js')
  await import('./trusted.suite.js')
  await import('./types.suite.js')
  await import('./verify-setups.suite.js')
  await import('./secret-function.suite.js')
  await import('./namespaces.suite.js')
  await import('./verification-paths.suite.js')
  await import('./revoke.suite.js')
  await import('./options.suite.js')
  await import('./instances.suite.js')
  await import('./store-failure.suite.js')
  t.pass('13 suites loaded')
})
