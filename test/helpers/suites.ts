import type { Test } from 'tap'

/**
 * Runs several suites (`*.suite.ts` modules) in this test file's process; see test/suites.suite.ts for why. Each suite
 * adds its tests to the root as it loads, and some first await a set-up (a redis-server): they load inside a test, so
 * that tap never finds the root idle in between and ends it early. Their tests run after it, in this order.
 */
export function runSuites (t: Test, suites: Array<() => Promise<unknown>>): void {
  // For all of them together; tap's 30 s default is for one file's worth.
  t.setTimeout(240_000)
  t.test('the suites load', async (t) => {
    for (const load of suites) await load()
    t.pass(`${suites.length} suites loaded`)
  })
}
