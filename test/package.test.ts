import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { builtinModules } from 'node:module'
import { promisify } from 'node:util'
import { publint } from 'publint'
import t from 'tap'
import { childEnv } from './helpers/child-env.js'
import { startRedisFor } from './helpers/redis-server.js'

// Packs the package as a publisher would, from what a fresh clone holds (the files git tracks, no dist/, no build by
// hand: `npm pack` builds through prepack), installs the tarball into a scratch project with npm, and uses it from
// there: with `import` and `require`, its CLI through npx, its types from an ES module and a CommonJS TypeScript
// project, and the ecosystem's checkers (@arethetypeswrong/cli, publint). A broken exports map, a file missing from
// `files`, a dependency missing from package.json or types that disagree with the code fail here before they fail a
// user. One pack and one install serve every test below.

const run = promisify(execFile)
// npm run build and npm pack, then two child processes: over tap's 30 s default when other work shares the two cores
// (38 s measured at load average 15).
t.setTimeout(120_000)
const root = process.cwd()
const scratch = mkdtempSync(join(root, '.pack-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
// Building, packing and installing take a while on a busy machine.
t.setTimeout(240_000)

interface PackageJson { dependencies?: Record<string, string>, peerDependencies?: Record<string, string> }
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson

// The tracked files as they are in the work tree (so an uncommitted edit is tested, and a file git does not know is
// missing, as it would be from a clone). The repository's own dist/ is never touched while other tests run.
const source = join(scratch, 'source')
const { stdout: tracked } = await run('git', ['ls-files', '-z'], { cwd: root })
for (const file of tracked.split('\0')) {
  if (file === '' || !existsSync(join(root, file))) continue
  mkdirSync(dirname(join(source, file)), { recursive: true })
  copyFileSync(join(root, file), join(source, file))
}
const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: source, env: childEnv() })
const [packed] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as Array<{ filename: string, files: Array<{ path: string }> }>
if (packed === undefined) throw new Error('npm pack packed nothing')
const tarball = join(scratch, packed.filename)

// A project of its own (or Node would resolve 'fastify-jwt-revoke' from here as the repository's self-reference),
// installing the tarball with npm, its dependencies from npm's cache when it has them. The scratch folder sits inside
// the repository, so the app's own packages (fastify, @fastify/jwt, @types/node) come from the repository's
// node_modules, as they would from an app's.
writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, type: 'module' }))
await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', '--legacy-peer-deps', tarball], { cwd: scratch, env: childEnv() })
const installed = join(scratch, 'node_modules', 'fastify-jwt-revoke')

function files (dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return files(path, pattern)
    return pattern.test(path) ? [path] : []
  })
}

t.test('the tarball holds exactly the built code, its types, the README, the changelog, the license and package.json', async (t) => {
  // Each source file of lib/ once as JavaScript and once as its declarations; the CommonJS entry and its types.
  const built = files(join(root, 'lib'), /\.ts$/).map((path) => relative(root, path).replace(/\.ts$/, ''))
  const expected = [
    'package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'bin/fastify-jwt-revoke.js',
    'dist/index.js', 'dist/index.d.ts', 'dist/index.cjs', 'dist/index.d.cts',
    ...built.flatMap((path) => [`dist/${path}.js`, `dist/${path}.d.ts`])
  ]
  t.same(packed.files.map((file) => file.path).sort(), expected.sort())
  // npm ships a file named LICENSE whatever "files" says; the MIT text is what package.json's "license" promises.
  t.match(readFileSync(join(installed, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} /)
})

t.test('every package the built code imports is declared in package.json', async (t) => {
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
  const builtins = new Set(builtinModules)
  for (const file of files(join(installed, 'dist'), /\.c?js$/)) {
    const source = readFileSync(file, 'utf8')
    for (const [, specifier] of source.matchAll(/(?:from |import\(|require\()\s*'([^'.][^']*)'/g)) {
      const name = (specifier as string).startsWith('@') ? (specifier as string).split('/').slice(0, 2).join('/') : (specifier as string).split('/')[0] as string
      if (name.startsWith('node:') || builtins.has(name) || name === 'fastify-jwt-revoke') continue
      t.ok(declared.has(name), `${relative(installed, file)} imports ${name}, which package.json declares`)
    }
  }
})

const usage = (loader: string, jti: string): string => `
${loader}
const Fastify = (await import('fastify')).default
const fastifyJwt = (await import('@fastify/jwt')).default
const app = Fastify()
await app.register(fastifyJwt, { secret: 'a-secret-for-the-packed-package-test' })
await app.register(jwtRevoke, { redis: process.env.REDIS_URL })
app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user)
const token = app.jwt.sign({ sub: 'packed', jti: '${jti}' }, { expiresIn: 60 })
const before = (await app.inject({ url: '/me', headers: { authorization: 'Bearer ' + token } })).statusCode
await app.revoke(token)
const after = (await app.inject({ url: '/me', headers: { authorization: 'Bearer ' + token } })).statusCode
console.log(JSON.stringify({ before, after, store: app.jwtRevoke.store.constructor.name, named: fastifyJwtRevoke === jwtRevoke }))
await app.close()
`

t.test('installed from the tarball: import and require both register it and revoke a token', async (t) => {
  const redis = await startRedisFor(t)
  const loaders = {
    'esm.mjs': "import jwtRevoke, { fastifyJwtRevoke } from 'fastify-jwt-revoke'",
    'cjs.mjs': "import { createRequire } from 'node:module'\nconst jwtRevoke = createRequire(import.meta.url)('fastify-jwt-revoke')\nconst { fastifyJwtRevoke } = jwtRevoke"
  }
  for (const [file, loader] of Object.entries(loaders)) {
    writeFileSync(join(scratch, file), usage(loader, file))
    const { stdout } = await run('node', [join(scratch, file)], { env: childEnv({ REDIS_URL: redis.url }) })
    t.same(JSON.parse(stdout), { before: 200, after: 401, store: 'RedisStore', named: true }, file)
  }
  const cjs = await run('node', ['-e', "const p = require('fastify-jwt-revoke'); console.log(typeof p, p.default === p, p.fastifyJwtRevoke === p, typeof p.MemoryStore)"], { cwd: scratch, env: childEnv() })
  t.equal(cjs.stdout.trim(), 'function true true function', 'a CommonJS require() gives the plugin, with .default, .fastifyJwtRevoke and the named exports')
})

t.test('installed from the tarball, its CLI runs through npx', async (t) => {
  const { stdout } = await run('npx', ['--no', 'fastify-jwt-revoke', 'help'], { cwd: scratch, env: childEnv() })
  t.match(stdout, /revoke-subject/)
})

t.test('@arethetypeswrong/cli finds no problem in any resolution mode', async (t) => {
  const attw = await run(join(root, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'json'], { env: childEnv() }).catch((error: { stdout: string }) => error)
  interface Report { analysis: { problems: unknown[], entrypoints: Record<string, { resolutions: Record<string, unknown> }> } }
  const { analysis } = JSON.parse(attw.stdout) as Report
  t.same(analysis.problems, [])
  t.same(Object.keys(analysis.entrypoints['.']?.resolutions ?? {}).sort(), ['bundler', 'node10', 'node16-cjs', 'node16-esm'], 'every resolution mode was checked')
})

t.test('publint reports no error, no warning, no suggestion', async (t) => {
  const { messages } = await publint({ pack: { tarball: readFileSync(tarball).buffer }, level: 'suggestion', strict: true })
  t.same(messages, [])
})

t.test('strict TypeScript apps compile against the installed types, from an ES module and from CommonJS', async (t) => {
  const consumer = join(scratch, 'consumer')
  const fixtures = join(root, 'test', 'fixtures', 'consumers')
  mkdirSync(consumer)
  const names = readdirSync(fixtures)
  for (const name of names) copyFileSync(join(fixtures, name), join(consumer, name))
  const { stdout } = await run(process.execPath, [join(root, 'test', 'helpers', 'consumer-diagnostics.mjs'), installed, ...names.map((name) => join(consumer, name))], { env: childEnv() })
  const report = JSON.parse(stdout) as { checked: string[], errors: Array<{ file: string, line: number, text: string }> }
  t.ok(report.checked.includes('dist/index.d.ts') && report.checked.includes('dist/index.d.cts'), 'the apps use both declaration entries, checked too')
  const errors = report.errors.map(({ file, line, text }) => ({ at: `${relative(consumer, file)}:${line}`, text }))
  // The lines marked `// error:` in the fixtures, and nothing else, fail to compile.
  const marked = names.flatMap((name) => readFileSync(join(fixtures, name), 'utf8').split('\n').flatMap((text, i) => text.includes('// error:') ? [`${name}:${i + 1}`] : []))
  t.ok(marked.length >= 4, 'each typo fixture marks its lines')
  t.same(errors.map(({ at }) => at).sort(), marked.sort())
  for (const error of errors) t.match(error.text, /'storeTimeOut' does not exist/, `${error.at} fails on the misspelled option`)
})
