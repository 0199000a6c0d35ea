// The stores and what they are built from (the deny-list, the mirror's messages, the Redis store and its batched
// MGET), the Redis provisioning of `npm test`, the layout of the test suites themselves and the documents' links: suites that each take
// well under a second, in one process (see test/suites.suite.ts).
import t from 'tap'
import { runSuites } from './helpers/suites.js'

runSuites(t, [
  async () => await import('./deny-list.suite.js'),
  async () => await import('./mirror-message.suite.js'),
  async () => await import('./mirror-entries.suite.js'),
  async () => await import('./redis-store.suite.js'),
  async () => await import('./mget-batch.suite.js'),
  async () => await import('./provision-redis.suite.js'),
  async () => await import('./harness.suite.js'),
  async () => await import('./suites.suite.js'),
  async () => await import('./docs.suite.js')
])
