// How the tests are laid out. Every `*.test.ts` is a process of its own, which tap runs beside the others (4 jobs).
// A process costs about 1.5 CPU-seconds before its first test (Node, the TypeScript loader, tap, Fastify, the
// package), so the suites that take well under a second are `*.suite.ts` modules that a `*.test.ts` imports, several
// to a process: on two cores that took `npm test` well under three minutes. A suite that no test file imports would
// never run, and nobody would notice: that is what this checks.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import t from 'tap'

const root = join(import.meta.dirname, '..')

function filesUnder (dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : filesUnder(path, suffix)
    return entry.name.endsWith(suffix) ? [relative(root, path)] : []
  })
}

t.test('every suite is imported by exactly one test file, and every import names a suite that exists', async (t) => {
  const suites = filesUnder(join(root, 'test'), '.suite.ts')
  const importers = new Map<string, string[]>(suites.map((suite) => [suite, []]))
  for (const file of filesUnder(join(root, 'test'), '.test.ts')) {
    const source = readFileSync(join(root, file), 'utf8')
    for (const [, specifier] of source.matchAll(/import\('(\.[^']+\.suite)\.js'\)/g)) {
      const suite = relative(root, join(root, file, '..', `${specifier as string}.ts`))
      const known = importers.get(suite)
      if (known === undefined) t.fail(`${file} imports ${suite}, which does not exist`)
      else known.push(file)
    }
  }
  t.ok(suites.length > 20, `${suites.length} suites found`)
  t.same([...importers].filter(([, by]) => by.length !== 1).map(([suite, by]) => `${suite}: imported by ${by.length}`), [], 'each suite is imported by one test file')
})
