import type { Test } from 'tap'

/** The module a loader imports, for messages: `./token.suite.js` from `async () => await import('./token.suite.js')`. */
function suiteName (load: () => Promise<unknown>): string {
  return /import\('([^']+)'\)/.exec(String(load))?.[1] ?? String(load)
}

/**
 * Runs several suites (`*.suite.ts` modules) in this test file's process; see test/suites.suite.ts for why. Each suite
 * adds its tests to the root as it loads, and some first await a set-up (a redis-server): they load inside a test, so
 * that tap never finds the root idle in between and ends it early. Their tests run after it, in this order. A suite
 * that adds no test (a loop over an empty list, say) fails here instead of passing unnoticed.
 */
export function runSuites (t: Test, suites: Array<() => Promise<unknown>>): void {
  // For all of them together; tap's 30 s default is for one file's worth.
  t.setTimeout(240_000)
  t.test('the suites load', async (loading) => {
    for (const load of suites) {
      // The root's tests not yet run: none finishes while this one runs, so the count only grows.
      const before = t.subtests.length
      await load()
      const added = t.subtests.length - before
      loading.ok(added > 0, `${suiteName(load)} adds ${added} tests`)
    }
  })
}
