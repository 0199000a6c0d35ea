import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { childEnv } from './helpers/child-env.js'

// @fastify/jwt's own test suite, as published with it, run against the installed @fastify/jwt with this plugin
// registered beside it in every app the suite builds: a thin module stands in for `@fastify/jwt` (the suite requires
// it as '..'), calls the real plugin function, then registers ours in the same context. Nothing is revoked there:
// every test passing proves that adding the plugin changes nothing else, namespace tests included.

// A 200-test suite in child processes: about 50 s when other work shares the two cores.
t.setTimeout(240_000)

const root = resolve(import.meta.dirname, '..')
const jwtDir = join(root, 'node_modules', '@fastify', 'jwt')

const shim = (countFile: string): string => `'use strict'
const fs = require('node:fs')
const fp = require('fastify-plugin')
const real = require(${JSON.stringify(jwtDir)})
const jwtRevoke = require(${JSON.stringify(join(root, 'index.ts'))}).default
let registered = 0
let guardedRequests = 0
process.on('exit', () => { fs.appendFileSync(${JSON.stringify(countFile)}, registered + ' ' + guardedRequests + '\\n') })
// requireJti: false, as the suite signs tokens without jti; a second @fastify/jwt (a namespace) in the same
// context is guarded at onReady by the plugin already there.
const addPlugin = fp(async (instance) => {
  if (instance.hasDecorator('jwtRevoke')) return
  await instance.register(jwtRevoke, { requireJti: false })
  registered++
  instance.addHook('onResponse', async (request) => { if (request.jwtVerify?.name === 'verifyAndCheck') guardedRequests++ })
})
function withRevocation (fastify, options, next) {
  real.fastifyJwt(fastify, options, (error) => {
    if (error) return next(error)
    fastify.register(addPlugin)
    next()
  })
}
module.exports = fp(withRevocation, { fastify: '5.x', name: '@fastify/jwt' })
module.exports.default = withRevocation
module.exports.fastifyJwt = withRevocation
`

t.test("@fastify/jwt's own suite passes with the plugin registered in every app", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jwt-compat-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(join(jwtDir, 'test'), join(dir, 'test'), { recursive: true })
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'))
  const countFile = join(dir, 'registrations')
  await writeFile(countFile, '')
  await writeFile(join(dir, 'index.js'), shim(countFile))
  const files = (await readdir(join(dir, 'test'))).filter((file) => file.endsWith('.test.js')).map((file) => join('test', file))
  t.ok(files.length >= 7, `the published suite is there (${files.length} files)`)

  // The reporter is named: without it Node 20 and 22 print TAP to a pipe, but Node 23 and later print the `spec`
  // format, whose summary lines (`ℹ tests 200`) the counts below would not find.
  const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=2', ...files], {
    cwd: dir, env: childEnv(), maxBuffer: 64 * 1024 * 1024
  }).catch((error: { stdout?: string, code?: number }) => ({ stdout: error.stdout ?? '', code: error.code }))
  const count = (name: string): number => Number(/^# (\w+) (\d+)$/m.exec(run.stdout.split('\n').filter((line) => line.startsWith(`# ${name} `)).join('\n'))?.[2] ?? -1)
  const failed = run.stdout.split('\n').filter((line) => /^\s*not ok/.test(line))
  t.same(failed, [], 'no test of the suite failed')
  t.ok(count('tests') >= 150, `the suite ran (${count('tests')} tests)`)
  t.equal(count('pass'), count('tests'), 'every one passed')
  for (const name of ['fail', 'cancelled', 'skipped', 'todo']) t.equal(count(name), 0, `${name}: 0`)
  const lines = (await readFile(countFile, 'utf8')).split('\n').filter(Boolean).map((line) => line.split(' ').map(Number))
  const sum = (at: number): number => lines.reduce((total, line) => total + (line[at] ?? 0), 0)
  t.ok(sum(0) >= 50, `the plugin was registered beside @fastify/jwt in the suite's apps (${sum(0)} times)`)
  t.ok(sum(1) >= 50, `and its requests had the guarded request.jwtVerify (${sum(1)} requests)`)
})
