// The plugin through Fastify apps: tokens and claims, every way a token is verified, the decorators, the options,
// several instances, a failing store. Suites that each take well under a second share one process (see
// test/suites.suite.ts for why and how); each can still run alone: `npx tap test/revoke.suite.ts`.
import t from 'tap'
import { runSuites } from './helpers/suites.js'

runSuites(t, [
  async () => await import('./token.suite.js'),
  async () => await import('./claims.suite.js'),
  async () => await import('./edge-claims.suite.js'),
  async () => await import('./trusted.suite.js'),
  async () => await import('./decorators.suite.js'),
  async () => await import('./types.suite.js'),
  async () => await import('./verify-setups.suite.js'),
  async () => await import('./secret-function.suite.js'),
  async () => await import('./namespaces.suite.js'),
  async () => await import('./verification-paths.suite.js'),
  async () => await import('./revoke.suite.js'),
  async () => await import('./options.suite.js'),
  async () => await import('./instances.suite.js'),
  async () => await import('./store-failure.suite.js')
])
