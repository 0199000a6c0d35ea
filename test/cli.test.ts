import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { cutoffKey, jtiKey } from '../lib/keys.js'
import { formatBytes } from '../lib/cli/output.js'
import { LONGEST_TTL } from '../lib/ttl.js'
import { bearer, buildApp, type TestApp } from './helpers/app.js'
import { childEnv } from './helpers/child-env.js'
import { cli, cliChild, unsignedToken } from './helpers/cli-run.js'
import { freePort, listened, startRedisFor } from './helpers/redis-server.js'

const server = await startRedisFor(t)
const client = listened(new Redis(server.url))
t.teardown(() => client.quit())
const env = { REDIS_URL: server.url }
const deadUrl = `redis://127.0.0.1:${await freePort()}`
const now = (): number => Math.floor(Date.now() / 1000)
const root = fileURLToPath(new URL('..', import.meta.url))
// The child-process tests start tsx for every run: several seconds apiece on a busy machine.
t.setTimeout(300_000)

/** A Fastify app using the plugin on the same Redis, with the given key prefix. */
async function pluginApp (t: Test, keyPrefix = 'jwt-revoke:'): Promise<TestApp> {
  const borrowed = listened(new Redis(server.url))
  const test = await buildApp({ store: 'redis', redis: borrowed, keyPrefix })
  t.teardown(async () => {
    await test.app.close()
    await borrowed.quit()
  })
  return test
}

function json (stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>
}

t.test('help: every way of asking prints the usage, and says tokens are decoded, not verified', async (t) => {
  for (const argv of [['help'], ['--help'], ['-h'], ['revoke', '--help']]) {
    const { code, stdout, stderr } = await cli(argv)
    t.equal(code, 0, argv.join(' '))
    t.match(stdout, /DECODED, NOT VERIFIED/)
    t.match(stdout, /revoke-subject <sub>/)
    t.equal(stderr, '')
  }
})

t.test('usage errors exit 2 with a message and send nothing to Redis', async (t) => {
  const live = { jti: 'j', sub: 's', exp: now() + 600 }
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [[], /no command given/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['stats', '--nope'], /Unknown option '--nope'/],
    [['stats', '--jti'], /argument missing/],
    [['check', '--before', '1'], /check does not take --before/],
    [['stats', 'extra'], /stats takes no arguments, got extra/],
    [['revoke'], /revoke needs a token, or --jti and --exp/],
    [['revoke', '--jti', 'j'], /revoke needs a token, or --jti and --exp/],
    [['revoke', '--jti', 'j', '--exp', 'soon'], /--exp takes a whole number of seconds, not 'soon'/],
    [['revoke', '--jti', '', '--exp', '1'], /claim "jti" is invalid/],
    [['revoke', unsignedToken(live), '--jti', 'j'], /give a token or --jti, not both/],
    [['revoke', 'a', 'b'], /revoke takes at most one token, got 2/],
    [['revoke', 'not-a-token'], /malformed token: a JWT has 3 dot-separated parts, this has 1/],
    [['revoke', 'a.b.c.d.e'], /3 dot-separated parts, this has 5/],
    [['revoke', 'a!.b.c'], /its header is not base64url/],
    [['revoke', unsignedToken(live).replace(/\.[^.]+\./, '.bm90IGpzb24.')], /its payload is not JSON/],
    [['revoke', unsignedToken([1, 2])], /its payload is not a JSON object/],
    [['revoke', unsignedToken(live, null)], /its header is not a JSON object/],
    [['revoke', unsignedToken({ sub: 's', exp: now() + 60 })], /no "jti" claim/],
    [['revoke', unsignedToken({ jti: 7, exp: now() + 60 })], /claim "jti" is invalid/],
    [['revoke', unsignedToken({ jti: 'j' })], /no "exp" claim; set --max-token-lifetime \(the app's maxTokenLifetime\)/],
    [['check'], /check needs a token, or --jti and\/or --sub/],
    [['check', '--iat', '5'], /check needs a token, or --jti and\/or --sub/],
    [['check', '--jti', 'j', '--iat', '-5'], /argument is ambiguous/],
    [['check', unsignedToken({ role: 'admin' })], /neither jti nor sub/],
    [['check', unsignedToken({ sub: 's', iat: 'yesterday' })], /claim "iat" is invalid/],
    [['revoke-subject'], /revoke-subject takes one subject, got 0/],
    [['revoke-subject', 'a', 'b'], /takes one subject, got 2/],
    [['revoke-subject', ''], /non-empty subject/],
    [['revoke-subject', 'u', '--before', '1.5'], /--before takes a whole number of seconds/],
    [['revoke-subject', 'u', '--max-token-lifetime', '0'], /Invalid --max-token-lifetime: Expected integer to be greater or equal to 1/],
    [['stats', '--clock-skew', '86401'], /Invalid --clock-skew/],
    [['stats', '--key-prefix', 'a{b}'], /Invalid --key-prefix/],
    [['stats'], /no Redis to talk to: pass --redis-url or set REDIS_URL/, {}],
    [['stats'], /no Redis to talk to/, { REDIS_URL: '' }],
    [['stats', '--redis-url', 'http://localhost:6379'], /--redis-url \(or REDIS_URL\) is not a redis:\/\/ or rediss:\/\/ URL/],
    [['stats', '--redis-url', 'redis://localhost:99999'], /--redis-url .*'redis:\/\/localhost:99999'/],
    [['stats', '--redis-url', 'redis://ops:hunter2@'], /--redis-url .*'redis:\/\/ops:\*\*\*@'/],
    [['stats', '--redis-url', 'redis://localhost/zero'], /--redis-url/],
    [['stats'], /--redis-url \(or REDIS_URL\)/, { REDIS_URL: 'localhost:6379' }],
    // As app.revokeSubject() and app.revoke({ exp }) refuse them: milliseconds, a cutoff years ahead.
    [['revoke-subject', 'u', '--before', String(Date.now())], /--before is \d+, which looks like milliseconds; pass Unix seconds/],
    [['revoke-subject', 'u', '--before', String(now() + 3 * 365 * 86400)], /--before is more than clockSkew \(60 s\) in the future/],
    [['revoke-subject', 'u', '--before', String(now() + 120), '--clock-skew', '60'], /--before is more than clockSkew/],
    [['revoke', '--jti', 'j', '--exp', String(Date.now())], /--exp is \d+, which looks like milliseconds/],
    [['check', '--jti', 'j', '--iat', String(Date.now())], /--iat is \d+, which looks like milliseconds/]
  ]
  for (const [argv, message, caseEnv = env] of cases) {
    const { code, stdout, stderr } = await cli(argv, caseEnv)
    t.equal(code, 2, `${argv.join(' ').slice(0, 60)}: exit 2`)
    t.equal(stdout, '')
    t.match(stderr, message, argv.join(' ').slice(0, 60))
    t.match(stderr, /Run 'fastify-jwt-revoke help' for usage/)
  }
  t.same(await client.keys('*'), [], 'nothing was written')

  const asJson = await cli(['revoke', '--json', 'x.y'], env)
  t.equal(asJson.code, 2)
  t.match(json(asJson.stdout), { ok: false, exitCode: 2, error: /malformed token/ })
})

t.test('revoke <token> writes exactly the key the plugin reads: the app refuses the token', async (t) => {
  const { app, sign } = await pluginApp(t)
  const token = sign({ sub: 'alice' })
  const other = sign({ sub: 'alice' })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)

  const refused = await cli(['revoke', `Bearer ${token}`], env)
  t.equal(refused.code, 2, 'the first entry under the prefix: refused without --force')
  t.match(refused.stderr, /^error: nothing written: the key prefix 'jwt-revoke:' holds no entry of fastify-jwt-revoke on this Redis, so the app most likely uses another keyPrefix: pass the whole prefix of its keys with --key-prefix .*; if this is the app's very first revocation, pass --force\n/)
  t.same(await client.keys('jwt-revoke:*'), [], 'nothing was written')
  const { code, stdout, stderr } = await cli(['revoke', `Bearer ${token}`, '--force'], env)
  t.equal(code, 0)
  t.equal(stderr, '', 'with --force: written, no warning')
  t.match(stdout, /^Revoked token jti=\S+ sub=alice \(decoded from the token, whose signature was not verified\): deny-listed for 36\d\d s, until \d{4}-/)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'the plugin sees the revocation')
  t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 200, 'other tokens of the subject pass')
  const { jti } = app.jwt.decode<{ jti: string }>(token) as { jti: string }
  t.ok(await client.ttl(jtiKey('jwt-revoke:', jti, 'alice')) > 3600, 'kept until exp plus the clock skew')
  t.equal(await app.isRevoked(token), true)
})

t.test('revoke --jti --exp [--sub] with another prefix and clock skew, in JSON', async (t) => {
  const { app, sign } = await pluginApp(t, 'ops:')
  const token = sign({ sub: 'bob', jti: 'ops-1' })
  const exp = now() + 300
  const result = await cli(['revoke', '--jti', 'ops-1', '--sub', 'bob', '--exp', String(exp), '--key-prefix', 'ops:', '--clock-skew', '10', '--json', '--force'], env)
  t.equal(result.code, 0)
  t.match(json(result.stdout), { ok: true, command: 'revoke', jti: 'ops-1', sub: 'bob', exp, decoded: false, written: true, ttlSeconds: Number, until: String })
  const ttl = json(result.stdout).ttlSeconds as number
  t.ok(ttl >= 309 && ttl <= 310, `exp + 10 s skew: ${ttl}`)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  t.equal(await client.exists('jwt-revoke:{bob}:jti:ops-1'), 0, 'nothing under the default prefix')

  // A token without a subject lives under its own hash tag.
  const lone = await cli(['revoke', '--jti', 'lone', '--exp', String(exp)], env)
  t.equal(lone.code, 0)
  t.match(lone.stdout, /\nNote: no --sub was given, so this only concerns a token without a sub claim\.\n$/)
  t.equal(await client.exists(jtiKey('jwt-revoke:', 'lone', undefined)), 1)
})

t.test('revoke: TTLs computed as the plugin does (expired, no exp, far future)', async (t) => {
  const expired = await cli(['revoke', '--jti', 'old', '--exp', String(now() - 61)], env)
  t.equal(expired.code, 0)
  t.match(expired.stdout, /Nothing to do: token jti=old is past its lifetime plus the 60 s clock skew/)
  t.equal(await client.exists(jtiKey('jwt-revoke:', 'old', undefined)), 0)
  const withinSkew = await cli(['revoke', '--jti', 'skewed', '--exp', String(now() - 30), '--json'], env)
  t.match(json(withinSkew.stdout), { written: true })
  const noSkew = await cli(['revoke', '--jti', 'skewed2', '--exp', String(now() - 30), '--clock-skew', '0', '--json'], env)
  t.match(json(noSkew.stdout), { written: false })
  t.notOk('ttlSeconds' in json(noSkew.stdout))

  const noExp = unsignedToken({ jti: 'no-exp', sub: 'carol', iat: now() - 100 })
  const bounded = await cli(['revoke', noExp, '--max-token-lifetime', '600', '--json'], env)
  t.equal(bounded.code, 0)
  const ttl = json(bounded.stdout).ttlSeconds as number
  t.ok(ttl >= 559 && ttl <= 560, `iat + maxTokenLifetime + skew: ${ttl}`)
  const noIat = await cli(['revoke', unsignedToken({ jti: 'no-iat' }), '--max-token-lifetime', '600', '--json'], env)
  t.equal(json(noIat.stdout).ttlSeconds, 660, 'issued now, at the latest')

  const far = await cli(['revoke', '--jti', 'forever', '--exp', '99999999999', '--json'], env)
  t.equal(json(far.stdout).ttlSeconds, LONGEST_TTL, 'capped at a century, as the plugin caps it')
})

t.test('check: the CLI reads what the plugin wrote, and the reverse; exit 1 when revoked', async (t) => {
  const { app, sign } = await pluginApp(t)
  const token = sign({ sub: 'dave' })
  const fresh = await cli(['check', token], env)
  t.equal(fresh.code, 0)
  t.match(fresh.stdout, /^Not revoked: token jti=\S+ sub=dave \(decoded/)

  await app.revoke(token)
  const revoked = await cli(['check', token], env)
  t.equal(revoked.code, 1)
  t.match(revoked.stdout, /^REVOKED: token jti=\S+ sub=dave/)
  const { jti } = app.jwt.decode<{ jti: string }>(token) as { jti: string }
  t.equal((await cli(['check', '--jti', jti, '--sub', 'dave'], env)).code, 1, 'by id')
  const withoutSub = await cli(['check', '--jti', jti], env)
  t.equal(withoutSub.code, 0, 'the same id without its subject is another key')
  t.match(withoutSub.stdout, /^Not revoked: token jti=\S+\nNote: no --sub was given/)

  const asJson = await cli(['check', '--json', token], env)
  t.equal(asJson.code, 1)
  t.match(json(asJson.stdout), { ok: true, command: 'check', revoked: true, jti, sub: 'dave', iat: Number, exp: Number, expired: false, decoded: true })

  // The plugin's revokeSubject: the CLI sees the cutoff, by token and by --sub/--iat.
  const before = sign({ sub: 'erin', iat: now() - 100 })
  await app.revokeSubject('erin', { before: now() - 50 })
  t.equal((await cli(['check', before], env)).code, 1)
  t.equal((await cli(['check', '--sub', 'erin', '--iat', String(now() - 60)], env)).code, 1)
  t.equal((await cli(['check', '--sub', 'erin', '--iat', String(now())], env)).code, 0, 'issued after the cutoff')
  t.equal((await cli(['check', '--sub', 'erin'], env)).code, 1, 'no iat cannot prove it came after the cutoff')

  const expired = await cli(['check', unsignedToken({ jti: 'gone', exp: now() - 10 })], env)
  t.equal(expired.code, 0)
  t.match(expired.stdout, /; it expired at \d{4}-\S+ anyway$/m)
})

t.test('revoke-subject: the plugin refuses the subject\'s earlier tokens and accepts later ones', async (t) => {
  const { app, sign } = await pluginApp(t)
  const old = sign({ sub: 'frank', iat: now() - 100 })
  const recent = sign({ sub: 'frank' })
  const result = await cli(['revoke-subject', 'frank', '--before', String(now() - 50)], env)
  t.equal(result.stderr, '')
  t.equal(result.code, 0)
  t.match(result.stdout, /^Revoked every token of sub=frank issued at or before \d{4}-\S+, for 259\d{4} s\. \(A later cutoff or a longer TTL/)
  t.equal((await app.inject({ url: '/me', headers: bearer(old) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(recent) })).statusCode, 200)

  const nowCutoff = await cli(['revoke-subject', 'frank', '--max-token-lifetime', '3600', '--json'], env)
  t.match(json(nowCutoff.stdout), { ok: true, command: 'revoke-subject', sub: 'frank', cutoff: Number, cutoffAt: String, written: true, ttlSeconds: 3660 })
  t.equal((await app.inject({ url: '/me', headers: bearer(recent) })).statusCode, 401, 'default --before is now')
  t.equal(Number(await client.get(cutoffKey('jwt-revoke:', 'frank'))), json(nowCutoff.stdout).cutoff)

  const stale = await cli(['revoke-subject', 'frank', '--before', String(now() - 4000), '--max-token-lifetime', '3600'], env)
  t.equal(stale.code, 0)
  t.match(stale.stdout, /^Nothing to do: every token of sub=frank issued at or before \S+ has expired \(cutoff lifetime 3600 s, clock skew 60 s\)/)
  t.equal(Number(await client.get(cutoffKey('jwt-revoke:', 'frank'))), json(nowCutoff.stdout).cutoff, 'the later cutoff stays')
})

t.test('stats: live token ids and subject cutoffs, counted apart, and their memory', async (t) => {
  const prefix = 'stats:'
  const exp = String(now() + 600)
  for (const jti of ['a', 'b', 'c']) t.equal((await cli(['revoke', '--jti', jti, '--sub', 'u', '--exp', exp, '--key-prefix', prefix, '--force'], env)).code, 0)
  t.equal((await cli(['revoke-subject', 'u', '--key-prefix', prefix], env)).code, 0)
  await client.set('stats:unrelated', 'x')

  const text = await cli(['stats', '--key-prefix', prefix], env)
  t.equal(text.code, 0)
  t.match(text.stdout, /Live revocation entries under 'stats:':\n {2}revoked token ids: 3\n {2}subject cutoffs: {3}1\n {2}session cutoffs: {3}0\n {2}memory: {12}\d+ B \(MEMORY USAGE of these keys; Redis uses [\d.]+ MiB in all\)\n {2}maxmemory-policy: {2}noeviction\n$/)

  const asJson = json((await cli(['stats', '--key-prefix', prefix, '--json'], env)).stdout)
  t.match(asJson, { ok: true, command: 'stats', keyPrefix: prefix, tokens: 3, subjects: 1, entries: 4, maxmemoryPolicy: 'noeviction' })
  t.ok((asJson.memoryBytes as number) > 0 && (asJson.memoryBytes as number) < 1000)
  t.ok((asJson.usedMemory as number) > 100_000)
  t.match(json((await cli(['stats', '--key-prefix', 'empty:', '--json'], env)).stdout), { tokens: 0, subjects: 0, memoryBytes: 0 })

  await client.config('SET', 'maxmemory-policy', 'volatile-lru')
  t.teardown(() => client.config('SET', 'maxmemory-policy', 'noeviction'))
  const warned = await cli(['stats', '--key-prefix', prefix], env)
  t.match(warned.stdout, /maxmemory-policy: {2}volatile-lru\nwarning: maxmemory-policy is volatile-lru: Redis may evict revocations/)
})

t.test('the CLI warns on stderr when its prefix holds no entry of the plugin: another keyPrefix, most likely', async (t) => {
  const { app, sign } = await pluginApp(t, 'app-prefix:')
  const token = sign({ sub: 'heidi' })
  await app.revoke(sign({ sub: 'heidi' }))
  // Keys under the prefix that are not entries of the plugin do not count.
  await client.set('warn:{x}:other', '1')
  const empty = /^warning: the key prefix 'warn:' holds no entry of fastify-jwt-revoke on this Redis: if the app has revoked anything, the app most likely uses another keyPrefix: pass the whole prefix of its keys with --key-prefix \(its ioredis client's keyPrefix, if any, then the plugin's keyPrefix\)\n$/
  for (const argv of [['check', token], ['stats'], ['stats', '--json']]) {
    const result = await cli([...argv, '--key-prefix', 'warn:'], env)
    t.equal(result.code, 0, argv.join(' '))
    t.match(result.stderr, empty, `${argv[0] ?? ''}: warned`)
  }
  const refused = await cli(['revoke-subject', 'heidi', '--key-prefix', 'warn:'], env)
  t.equal(refused.code, 2, 'a write under a prefix without entries stops')
  t.match(refused.stderr, /^error: nothing written: the key prefix 'warn:' holds no entry/)
  t.equal(await client.exists('warn:{heidi}:cutoff'), 0, 'nothing written')
  t.equal((await cli(['revoke-subject', 'heidi', '--key-prefix', 'warn:', '--force'], env)).code, 0, 'unless the operator insists')
  const second = await cli(['revoke-subject', 'heidi', '--key-prefix', 'warn:'], env)
  t.same([second.code, second.stderr], [0, ''], 'the second time it holds one')

  // The app's prefix: no warning, whether the token is revoked or not.
  for (const argv of [['check', token], ['stats'], ['revoke', token], ['check', token]]) {
    const result = await cli([...argv, '--key-prefix', 'app-prefix:'], env)
    t.equal(result.stderr, '', `${argv[0] ?? ''} under the app's prefix: no warning`)
  }
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
})

t.test('stats reads more than one MEMORY USAGE batch', async (t) => {
  const pipeline = client.pipeline()
  for (let i = 0; i < 2500; i++) pipeline.set(`many:{u}:jti:${i}`, '1', 'EX', 600)
  await pipeline.exec()
  t.match(json((await cli(['stats', '--key-prefix', 'many:', '--json'], env)).stdout), { tokens: 2500, subjects: 0 })
})

t.test('an unreachable Redis fails fast with exit 3, every command, the password never shown', async (t) => {
  const token = unsignedToken({ jti: 'j', sub: 's', exp: now() + 600 })
  for (const argv of [['revoke', token], ['revoke-subject', 's'], ['check', token], ['stats']]) {
    const started = Date.now()
    const { code, stdout, stderr } = await cli([...argv, '--redis-url', deadUrl.replace('//', '//ops:hunter2@')])
    t.equal(code, 3, argv.join(' '))
    t.equal(stdout, '')
    t.match(stderr, /^failed: cannot reach Redis at redis:\/\/ops:\*\*\*@127\.0\.0\.1:\d+: connect ECONNREFUSED/)
    t.notMatch(stderr, /hunter2/)
    t.ok(Date.now() - started < 5000, 'no reconnect loop')
  }
  const asJson = await cli(['check', '--jti', 'j', '--json'], { REDIS_URL: deadUrl })
  t.equal(asJson.code, 3, 'check: "could not ask" (3) is not "revoked" (1)')
  t.match(json(asJson.stdout), { ok: false, exitCode: 3, error: /cannot reach Redis/ })
})

t.test('formatBytes scales to the largest unit', async (t) => {
  t.equal(formatBytes(512), '512 B')
  t.equal(formatBytes(1536), '1.5 KiB')
  t.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB')
  t.equal(formatBytes(5 * 1024 ** 4), '5120.0 GiB')
})

t.test('child process: revoke then check against the real Redis, exit 0 then 1', async (t) => {
  const token = unsignedToken({ jti: 'child-1', sub: 'grace', exp: now() + 600 })
  const revoked = await cliChild(['revoke', token], env)
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(revoked.stdout, /^Revoked token jti=child-1 sub=grace/)
  const checked = await cliChild(['check', token, '--json'], env)
  t.equal(checked.code, 1)
  t.match(json(checked.stdout), { ok: true, revoked: true, jti: 'child-1' })
})

t.test('child process: help exits 0, a malformed token exits 2', async (t) => {
  const [help, usage] = await Promise.all([cliChild(['help']), cliChild(['revoke', 'garbage'], env)])
  t.equal(help.code, 0)
  t.match(help.stdout, /DECODED, NOT VERIFIED/)
  t.equal(usage.code, 2)
  t.equal(usage.stdout, '')
  t.match(usage.stderr, /^error: malformed token/)
})

t.test('child process: an unreachable Redis exits 3 and the process ends', async (t) => {
  const failed = await cliChild(['stats', '--json'], { REDIS_URL: deadUrl })
  t.equal(failed.code, 3)
  t.match(json(failed.stdout), { ok: false, exitCode: 3, error: /cannot reach Redis/ })
  t.match(failed.stderr, /^failed: cannot reach Redis/)
})

t.test('--version prints the package version, in-process and as a command', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  t.same(await cli(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' })
  t.equal((await cli(['stats', '--version'])).stdout, `${version}\n`)
})

t.test('npx fastify-jwt-revoke runs from a clone, as the docs say (no build, no registry)', async (t) => {
  // A cache of its own: npx links this checkout afresh, as on a new clone, and never asks the registry (--offline).
  const cache = mkdtempSync(join(tmpdir(), 'npx-cache-'))
  t.teardown(() => rmSync(cache, { recursive: true, force: true }))
  const npx = (argv: string[], extra: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> => new Promise((resolve) => {
    execFile('npx', ['--offline', 'fastify-jwt-revoke', ...argv], { cwd: root, env: childEnv({ npm_config_cache: cache, ...extra }), timeout: 90_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
    })
  })
  const version = await npx(['--version'])
  t.equal(version.code, 0, version.stderr)
  t.match(version.stdout, /^\d+\.\d+\.\d+/)
  const token = unsignedToken({ jti: 'npx-1', sub: 'ivan', exp: now() + 600 })
  t.equal((await npx(['check', token], env)).code, 0, 'not revoked')
  t.equal((await npx(['revoke', token], env)).code, 0)
  t.equal((await npx(['check', token], env)).code, 1, 'revoked')
  t.equal((await npx(['check', token], { REDIS_URL: deadUrl })).code, 3, 'could not ask')
})

t.test('the CLI never shortens a revocation the plugin wrote, nor moves a cutoff back', async (t) => {
  const { app, sign } = await pluginApp(t)
  const token = sign({ sub: 'judy', jti: 'judy-1' })
  await app.revoke(token)
  // The same jti fed with a forged, nearly expired exp: it must not replace the hour the plugin keeps.
  t.equal((await cli(['revoke', '--jti', 'judy-1', '--sub', 'judy', '--exp', String(now() - 55)], env)).code, 0)
  t.ok(await client.ttl(jtiKey('jwt-revoke:', 'judy-1', 'judy')) > 3600, 'the longer TTL stays')
  await app.revokeSubject('judy')
  const cutoff = await client.get(cutoffKey('jwt-revoke:', 'judy'))
  t.equal((await cli(['revoke-subject', 'judy', '--before', String(now() - 10), '--max-token-lifetime', '5'], env)).code, 0)
  t.equal(await client.get(cutoffKey('jwt-revoke:', 'judy')), cutoff, 'the later cutoff stays')
  t.ok(await client.ttl(cutoffKey('jwt-revoke:', 'judy')) > 2_000_000, 'with its 30 days')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
})
