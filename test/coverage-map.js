// tap's coverage check (100%) covers the package's own source: index.ts and lib/. The example app and the benchmark
// are exercised by their own tests but are not part of what users install.
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

export default function coverageMap () {
  return files
}
