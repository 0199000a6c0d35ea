import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { Redis } from 'ioredis'
import { childEnv } from '../helpers/child-env.js'
import { newName, PASSWORD, variants } from '../helpers/example-app.js'
import { listened } from '../helpers/redis-server.js'

interface Started {
  child: ChildProcess
  base: string
  /** Everything it logged so far. */
  output: () => string
}

/** Starts the example the way `npm run example` does, and waits for its listen line. */
async function startServer (env: Record<string, string>): Promise<Started> {
  // The test runner's own environment must not decide which store or secret the example uses.
  const { JWT_SECRET: _secret, REDIS_URL: _url, ...inherited } = childEnv()
  // tsx as a loader of this node, not its CLI (a second process in between), so the signal reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/auth-server/server.ts'], {
    env: { ...inherited, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line within 30 s:\n${output}`)), 30_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /auth-server listening on (http:\/\/[\d.:]+)/.exec(output)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
  })
  return { child, base, output: () => output }
}

async function stop (started: Started): Promise<number | null> {
  const exited = once(started.child, 'exit')
  started.child.kill('SIGTERM')
  const [code] = await exited as [number | null]
  return code
}

// Each test starts the example through tsx: several seconds apiece on a busy machine.
t.setTimeout(90_000)
const redis = (await variants(t)).find((variant) => variant.name === 'redis')

function poster (base: string): (path: string, body: object) => Promise<Response> {
  return (path, body) => fetch(`${base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
}

t.test('npm run example: in memory, with a random secret, RATE_LIMITS=off, clean exit on SIGTERM', async (t) => {
  const server = await startServer({ RATE_LIMITS: 'off' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.match(server.output(), 'with the memory store')
  t.match(server.output(), 'JWT_SECRET is not set', 'says the secret is random')
  t.match(server.output(), /"level":40,.*RATE_LIMITS=off: no brute-force limits/, 'warns that the limits are off')
  const post = poster(server.base)
  const username = newName()
  t.equal((await post('/auth/register', { username, password: PASSWORD })).status, 201)
  // The default limit of /oauth/revoke is 30 a minute per IP (the cheapest limited route: no password hash).
  const revokes = await Promise.all(Array.from({ length: 35 }, () => post('/oauth/revoke', { token: 'garbage' })))
  t.same(new Set(revokes.map((reply) => reply.status)), new Set([200]), 'no request is limited')
  t.equal(await stop(server), 0)
  t.match(server.output(), 'shutting down')
})

t.test('npm run example with REDIS_URL and JWT_SECRET: sessions go to Redis', async (t) => {
  const server = await startServer({ REDIS_URL: redis?.redisUrl ?? '', JWT_SECRET: 'a-secret-from-the-environment-long-enough' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.match(server.output(), 'with the redis store')
  t.notMatch(server.output(), 'JWT_SECRET is not set')
  t.match(server.output(), 'every instance sharing this Redis must be started with the same JWT_SECRET')
  t.notMatch(server.output(), 'RATE_LIMITS=off', 'the limits are on by default')
  const username = newName()
  const post = poster(server.base)
  t.equal((await post('/auth/register', { username, password: PASSWORD })).status, 201)
  t.equal((await post('/auth/login', { username, password: PASSWORD })).status, 200)
  const client = listened(new Redis(redis?.redisUrl ?? ''))
  t.teardown(() => client.quit())
  t.equal((await client.keys('auth-server:sessions:*:session:*')).length, 1, 'the session is in Redis')
  t.equal(await stop(server), 0)
})
