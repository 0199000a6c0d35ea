import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { Redis } from 'ioredis'
import { childEnv } from '../helpers/child-env.js'
import { newName, PASSWORD, variants } from '../helpers/example-app.js'

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
  const child = spawn('node_modules/.bin/tsx', ['examples/auth-server/server.ts'], {
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

const redis = (await variants(t)).find((variant) => variant.name === 'redis')

t.test('npm run example: in memory, with a random secret, clean exit on SIGTERM', async (t) => {
  const server = await startServer({})
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.match(server.output(), 'with the memory store')
  t.match(server.output(), 'JWT_SECRET is not set', 'says the secret is random')
  const registered = await fetch(`${server.base}/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: newName(), password: PASSWORD })
  })
  t.equal(registered.status, 201)
  t.equal(await stop(server), 0)
  t.match(server.output(), 'shutting down')
})

t.test('npm run example with REDIS_URL and JWT_SECRET: sessions go to Redis', async (t) => {
  const server = await startServer({ REDIS_URL: redis?.redisUrl ?? '', JWT_SECRET: 'a-secret-from-the-environment-long-enough' })
  t.teardown(() => { server.child.kill('SIGKILL') })
  t.match(server.output(), 'with the redis store')
  t.notMatch(server.output(), 'JWT_SECRET is not set')
  const username = newName()
  const post = (path: string, body: object) => fetch(`${server.base}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
  })
  t.equal((await post('/auth/register', { username, password: PASSWORD })).status, 201)
  t.equal((await post('/auth/login', { username, password: PASSWORD })).status, 200)
  const client = new Redis(redis?.redisUrl ?? '')
  t.teardown(() => client.quit())
  t.equal((await client.keys('auth-server:sessions:*:session:*')).length, 1, 'the session is in Redis')
  t.equal(await stop(server), 0)
})
