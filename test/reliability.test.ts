// The reliability suites that are quick: generated options, durability on one Redis, Cluster behaviour, persistence
// and several instances, hostile input. The long ones (failovers, silences, races, fuzzing) are test files of their
// own under test/reliability/, so that they run beside the rest. One process for these (see test/suites.suite.ts).
import t from 'tap'

// For all of them together; tap's 30 s default is for one file's worth.
t.setTimeout(240_000)

// Each suite adds its tests to this file's root as it loads, and some first await a set-up (a redis-server): loaded
// inside a test, so that tap never finds the root idle in between and ends it early. The tests run after it.
t.test('the suites load', async (t) => {
  await import('./reliability/options.suite.js')
  await import('./reliability/durability.suite.js')
  await import('./reliability/cluster.suite.js')
  await import('./reliability/persistence-and-instances.suite.js')
  await import('./reliability/hostile-input.suite.js')
  t.pass('5 suites loaded')
})
