// Module hooks that run the TypeScript sources of this repository (the package, its tests, the example, the bench)
// without compiling them: types are erased to whitespace, so every line and column stays where it is in the .ts file,
// and V8's coverage of a test run maps onto the sources with no source map at all. Erasing (not compiling) is enough
// because the code uses only erasable syntax (no enum, namespace or parameter property: tsconfig.json sets
// erasableSyntaxOnly, so the typecheck refuses them); the typecheck itself (tsc) is a separate step of `npm test`.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transformSync } from '@swc/wasm-typescript'

const typescript = /\.m?ts$/

/** Imports are written as the compiled output will name them (`./x.js`): from a .ts file, a missing .js is its .ts. */
export async function resolve (specifier, context, nextResolve) {
  if (specifier.startsWith('.') && specifier.endsWith('.js') && typescript.test(context.parentURL ?? '')) {
    const asWritten = new URL(specifier, context.parentURL)
    const source = new URL(specifier.slice(0, -3) + '.ts', context.parentURL)
    if (!existsSync(fileURLToPath(asWritten)) && existsSync(fileURLToPath(source))) {
      return { url: source.href, format: 'module', shortCircuit: true }
    }
  }
  return nextResolve(specifier, context)
}

export async function load (url, context, nextLoad) {
  if (!url.startsWith('file:') || !typescript.test(new URL(url).pathname)) return nextLoad(url, context)
  const filename = fileURLToPath(url)
  const { code } = transformSync(await readFile(filename, 'utf8'), { mode: 'strip-only', filename })
  return { format: 'module', source: code, shortCircuit: true }
}
