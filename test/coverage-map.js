// tap's coverage check (100%) is about the package's own source, index.ts and lib/, and the package's own tests must
// cover all of it. The example app's and the benchmark's tests exercise the package too, but from apps and child
// processes of their own: they are left out of the coverage report (null) rather than mixed into it.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function sourceFiles (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

const files = ['index.ts', ...sourceFiles('lib')]

export default function coverageMap (testFile) {
  if (/^test[\\/](example[\\/.]|bench)/.test(testFile)) return null
  return files
}
