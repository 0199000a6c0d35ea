// The example app's suites, in one process (see test/suites.suite.ts). The example's server process is tested apart
// (test/example/server.test.ts): it starts processes of its own.
import t from 'tap'

// For all of them together; tap's 30 s default is for one file's worth.
t.setTimeout(240_000)

// Each suite adds its tests to this file's root as it loads, and some first await a set-up (a redis-server): loaded
// inside a test, so that tap never finds the root idle in between and ends it early. The tests run after it.
t.test('the suites load', async (t) => {
  await import('./example/admin.suite.js')
  await import('./example/flow.suite.js')
  await import('./example/http.suite.js')
  await import('./example/instances.suite.js')
  await import('./example/oauth.suite.js')
  await import('./example/rate-limit.suite.js')
  await import('./example/refresh.suite.js')
  await import('./example/sessions.suite.js')
  await import('./example/validation.suite.js')
  t.pass('9 suites loaded')
})
