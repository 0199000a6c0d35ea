import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { builtinModules } from 'node:module'
import { promisify } from 'node:util'
import t from 'tap'
import { childEnv } from './helpers/child-env.js'
import { startRedisFor } from './helpers/redis-server.js'

// Packs the package as `npm publish` would, unpacks the tarball into a scratch project, and uses it from there with
// `import` and with `require`: a broken exports map, a file missing from `files` or a dependency missing from
// package.json fails here before it fails a user.

const run = promisify(execFile)
// npm run build and npm pack, then two child processes: over tap's 30 s default when other work shares the two cores
// (38 s measured at load average 15).
t.setTimeout(120_000)
const root = process.cwd()
const scratch = mkdtempSync(join(root, '.pack-test-'))
t.teardown(() => rmSync(scratch, { recursive: true, force: true }))

interface PackageJson { dependencies?: Record<string, string>, peerDependencies?: Record<string, string> }
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson

// Built and packed from a copy of the package's sources, so the repository's own dist/ is never touched while other
// tests run.
const source = join(scratch, 'source')
await run('mkdir', ['-p', source])
for (const entry of ['package.json', 'README.md', 'CHANGELOG.md', 'index.ts', 'lib', 'tsconfig.json', 'tsconfig.build.json']) {
  await run('cp', ['-R', join(root, entry), source])
}
await run('npm', ['run', 'build'], { cwd: source, env: childEnv() })
const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: source, env: childEnv() })
const [packed] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
if (packed === undefined) throw new Error('npm pack packed nothing')
// The scratch folders sit inside the repository, so the build finds TypeScript and the packed code finds fastify and
// @fastify/jwt (the app's own packages) in the repository's node_modules, as it would find them in an app's.
const installed = join(scratch, 'node_modules', 'fastify-jwt-revoke')
// A package.json of its own, or Node would resolve 'fastify-jwt-revoke' from here as the repository's self-reference.
writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'pack-test', private: true, type: 'module' }))
await run('mkdir', ['-p', installed])
await run('tar', ['-xzf', join(scratch, packed.filename), '-C', installed, '--strip-components=1'])

t.test('the tarball holds the built code, its types and nothing of the repository\'s', async (t) => {
  const paths = packed.files.map((file) => file.path)
  for (const needed of ['package.json', 'README.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/lib/stores/redis.js']) {
    t.ok(paths.includes(needed), needed)
  }
  t.notOk(paths.some((path) => /^(test|examples|bench|\.ci)\//.test(path) || (path.endsWith('.ts') && !path.endsWith('.d.ts'))), 'no sources, tests or examples')
})

function jsFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return jsFiles(path)
    return /\.c?js$/.test(path) ? [path] : []
  })
}

t.test('every package the built code imports is declared in package.json', async (t) => {
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
  const builtins = new Set(builtinModules)
  for (const file of jsFiles(join(installed, 'dist'))) {
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
console.log(JSON.stringify({ before, after, store: app.jwtRevoke.store.constructor.name, trusted: typeof trusted }))
await app.close()
`

t.test('from the unpacked tarball: import and require both register it and revoke a token', async (t) => {
  const redis = await startRedisFor(t)
  const loaders = {
    'esm.mjs': "import jwtRevoke, { trusted } from 'fastify-jwt-revoke'",
    'cjs.mjs': "import { createRequire } from 'node:module'\nconst jwtRevoke = createRequire(import.meta.url)('fastify-jwt-revoke')\nconst { trusted } = jwtRevoke"
  }
  for (const [file, loader] of Object.entries(loaders)) {
    writeFileSync(join(scratch, file), usage(loader, file))
    const { stdout } = await run('node', [join(scratch, file)], { env: childEnv({ REDIS_URL: redis.url }) })
    t.same(JSON.parse(stdout), { before: 200, after: 401, store: 'RedisStore', trusted: 'function' }, file)
  }
  const cjs = await run('node', ['-e', "const p = require('fastify-jwt-revoke'); console.log(typeof p, typeof p.default, typeof p.MemoryStore)"], { cwd: scratch, env: childEnv() })
  t.equal(cjs.stdout.trim(), 'function function function', 'a CommonJS require() gives the plugin, with .default and the named exports')
})
