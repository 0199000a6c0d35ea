// The example app's suites, in one process (see test/suites.suite.ts). The example's server process is tested apart
// (test/example/server.test.ts): it starts processes of its own.
import t from 'tap'
import { runSuites } from './helpers/suites.js'

runSuites(t, [
  async () => await import('./example/admin.suite.js'),
  async () => await import('./example/csrf.suite.js'),
  async () => await import('./example/flow.suite.js'),
  async () => await import('./example/http.suite.js'),
  async () => await import('./example/instances.suite.js'),
  async () => await import('./example/oauth.suite.js'),
  async () => await import('./example/password.suite.js'),
  async () => await import('./example/rate-limit.suite.js'),
  async () => await import('./example/refresh.suite.js'),
  async () => await import('./example/sessions.suite.js'),
  async () => await import('./example/validation.suite.js')
])
