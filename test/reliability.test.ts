// The reliability suites that are quick: generated options, durability on one Redis, Cluster behaviour, persistence
// and several instances, hostile input. The long ones (failovers, silences, races, fuzzing) are test files of their
// own under test/reliability/, so that they run beside the rest. One process for these (see test/suites.suite.ts).
import t from 'tap'
import { runSuites } from './helpers/suites.js'

runSuites(t, [
  async () => await import('./reliability/options.suite.js'),
  async () => await import('./reliability/durability.suite.js'),
  async () => await import('./reliability/cluster.suite.js'),
  async () => await import('./reliability/persistence-and-instances.suite.js'),
  async () => await import('./reliability/hostile-input.suite.js')
])
