import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const REPO = fileURLToPath(new URL('..', import.meta.url))
// Inside node_modules, so that the compiled files resolve fastify & co. from the repo's node_modules.
const CACHE = join(REPO, 'node_modules', '.cache', 'fastify-jwt-revoke-bench')

function sources (dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(dir, name))
}

/** The server children's code, compiled to JavaScript; `remove` deletes it. */
export interface CompiledTree {
  /** The compiled path of a repo file, e.g. 'bench/server/child.ts'. */
  path (source: string): string
  remove (): void
}

/**
 * Transpiles the plugin and the benchmark into a fresh directory, once per run. The servers then run plain JavaScript,
 * as users run dist/: through tsx, each of the seven children spent about a second more CPU starting up, and carried a
 * module loader that production does not have.
 */
export function compileTree (): CompiledTree {
  mkdirSync(CACHE, { recursive: true })
  const out = mkdtempSync(join(CACHE, 'run-'))
  // Without its own package.json, a file under node_modules is CommonJS.
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n')
  const compilerOptions: ts.CompilerOptions = {
    module: ts.ModuleKind.ES2022,
    target: ts.ScriptTarget.ES2022,
    verbatimModuleSyntax: true
  }
  for (const source of ['index.ts', ...sources('lib'), ...sources('bench')]) {
    const { outputText } = ts.transpileModule(readFileSync(join(REPO, source), 'utf8'), { compilerOptions, fileName: source })
    const target = join(out, source.replace(/\.ts$/, '.js'))
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, outputText)
  }
  return {
    path: (source) => join(out, source.replace(/\.ts$/, '.js')),
    remove: () => rmSync(out, { recursive: true, force: true })
  }
}
