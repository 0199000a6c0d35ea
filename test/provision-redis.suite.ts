import { execFile } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t, { type Test } from 'tap'

// npm test's pretest step (scripts/provision-redis.mjs), run on machine states this machine is not in: a PATH without
// redis-server, without apt-get, a user other than root. Its PATH is a scratch folder of stubs, so it never installs
// anything for real: a stub apt-get records how it was called and, for `install`, puts stub programs on that PATH.

const script = resolve('scripts/provision-redis.mjs')
const isRoot = process.getuid?.() === 0
// Any user but root, for the "not root" case when the tests themselves run as root.
const NOBODY = 65534

interface Run { code: number, stdout: string, stderr: string, ms: number }

function provision (path: string, uid?: number): Promise<Run> {
  const started = Date.now()
  // `env -i`: the script sees PATH and nothing else, neither this machine's PATH nor tap's hooks (which would write
  // their process records where another user may not).
  const options = { cwd: tmpdir(), timeout: 30_000, ...(uid === undefined ? {} : { uid, gid: uid }) }
  // Another user runs copies of the script and of node in the scratch folder (0755): the checkout may sit in a folder
  // only its owner can enter (one made by `mktemp -d`), and so may node (a Node taken into ~/.cache).
  const [node, program] = uid === undefined ? [process.execPath, script] : [reachable(process.execPath, path), reachable(script, path)]
  return new Promise((resolve) => {
    execFile('/usr/bin/env', ['-i', `PATH=${path}`, node, program], options, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** A copy of `file` in `dir`, which every user can read and run. */
function reachable (file: string, dir: string): string {
  const copy = join(dir, `.copy-${file.split('/').at(-1)!}`)
  copyFileSync(file, copy)
  chmodSync(copy, 0o755)
  return copy
}

/** A scratch folder for PATH, readable by every user, removed after the test. */
function binDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'provision-'))
  chmodSync(dir, 0o755)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function stub (dir: string, name: string, body = ''): void {
  writeFileSync(join(dir, name), `#!${process.execPath}\n${body}\n`, { mode: 0o755 })
}

/** A stub apt-get: logs each call (with DEBIAN_FRONTEND) and, on install, puts the two programs in its folder. */
function fakeAptGet (dir: string, { fails = false } = {}): () => string[] {
  const log = join(dir, 'apt-get.log')
  stub(dir, 'apt-get', `
const { appendFileSync, writeFileSync } = require('node:fs')
const args = process.argv.slice(2)
appendFileSync(${JSON.stringify(log)}, (process.env.DEBIAN_FRONTEND ?? '') + ' ' + args.join(' ') + '\\n')
if (${fails}) process.exit(100)
if (args.includes('install')) {
  for (const name of ['redis-server', 'redis-cli']) writeFileSync(${JSON.stringify(dir)} + '/' + name, '#!/bin/sh\\n', { mode: 0o755 })
}`)
  return () => existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []
}

function outcome ({ code, stdout, stderr }: Run): Omit<Run, 'ms'> {
  return { code, stdout, stderr }
}

t.test('with redis-server and redis-cli on PATH it does nothing', async (t) => {
  const dir = binDir(t)
  stub(dir, 'redis-server')
  stub(dir, 'redis-cli')
  const aptCalls = fakeAptGet(dir)
  t.same(outcome(await provision(dir)), { code: 0, stdout: '', stderr: '' })
  t.same(aptCalls(), [], 'apt-get is not called')
})

t.test('without redis-server and without apt-get it stops at once with one line saying how to install it', async (t) => {
  const dir = binDir(t)
  stub(dir, 'redis-cli')
  const run = await provision(dir)
  t.equal(run.code, 1)
  t.equal(run.stdout, '')
  t.match(run.stderr, /^redis-server not found on PATH: install Redis .*then run npm test again\n$/)
  t.ok(run.ms < 10_000, `it stops at once (${run.ms} ms)`)
})

t.test('with apt-get but not as root it stops at once, naming the Debian packages, and installs nothing', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = binDir(t)
  const aptCalls = fakeAptGet(dir)
  // As root, the script runs as another user; as another user already, as this one.
  const run = await provision(dir, isRoot ? NOBODY : undefined)
  t.equal(run.code, 1)
  t.equal(run.stdout, '')
  t.equal(run.stderr, 'redis-server and redis-cli not found on PATH: install them with `sudo apt-get install -y redis-server redis-tools`, then run npm test again\n')
  t.same(aptCalls(), [], 'apt-get is not called')
})

t.test('as root with apt-get it runs apt-get update once, then installs what is missing, noninteractive', { skip: !isRoot && 'needs root' }, async (t) => {
  const dir = binDir(t)
  stub(dir, 'redis-cli')
  const aptCalls = fakeAptGet(dir)
  const run = await provision(dir)
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /redis-server not found on PATH: installing Debian's redis-server \(apt-get\)/)
  t.same(aptCalls(), ['noninteractive update -qq', 'noninteractive install -y -qq --no-install-recommends redis-server'])
  t.ok(existsSync(join(dir, 'redis-server')), 'redis-server is on PATH now')
})

t.test('as root, when apt-get fails, it says so and fails', { skip: !isRoot && 'needs root' }, async (t) => {
  const dir = binDir(t)
  const aptCalls = fakeAptGet(dir, { fails: true })
  const run = await provision(dir)
  t.equal(run.code, 1)
  t.match(run.stderr, /apt-get could not install redis-server redis-tools/)
  t.same(aptCalls(), ['noninteractive update -qq'])
})
