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

/** Starts an example the way `npm run example` does (the auth server, unless another script is named), and waits for its listen line. */
async function startServer (env: Record<string, string>, script = 'examples/auth-server/server.ts'): Promise<Started> {
  // The test runner's own environment must not decide which store or secret the example uses.
  const { JWT_SECRET: _secret, REDIS_URL: _url, ...inherited } = childEnv()
  // tsx as a loader of this node, not its CLI (a second process in between), so the signal reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...inherited, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line within 30 s:\n${output}`)), 30_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /(?:auth-server listening on|Server listening at) (http:\/\/[\d.:]+)/.exec(output)
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

/** The README's Quick start, examples/basic.ts: its four routes, as a client sees them. */
function basicClient (base: string): { login: () => Promise<string>, call: (method: string, path: string, token: string) => Promise<Response> } {
  return {
    login: async () => {
      const reply = await poster(base)('/login', { username: 'alice', password: 'correct horse battery' })
      if (reply.status !== 200) throw new Error(`login: ${reply.status}`)
      return (await reply.json() as { token: string }).token
    },
    call: (method, path, token) => fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } })
  }
}

t.test('examples/basic.ts (the Quick start): login, authenticate, logout, logout everywhere; a clean exit on SIGTERM', async (t) => {
  const server = await startServer({ JWT_SECRET: 'a-secret-from-the-environment-long-enough' }, 'examples/basic.ts')
  t.teardown(() => { server.child.kill('SIGKILL') })
  const { login, call } = basicClient(server.base)
  t.equal((await poster(server.base)('/login', { username: 'alice', password: 'not it' })).status, 401, 'a wrong password')

  const token = await login()
  const me = await call('GET', '/me', token)
  t.equal(me.status, 200)
  t.match(await me.json(), { user: 'alice' }, 'request.user, typed by the FastifyJWT augmentation')
  t.equal((await call('POST', '/logout', token)).status, 204)
  const revoked = await call('GET', '/me', token)
  t.equal(revoked.status, 401)
  t.match(await revoked.json(), { code: 'FST_JWT_REVOKED' })

  const first = await login()
  const second = await login()
  t.equal((await call('POST', '/logout-everywhere', first)).status, 204)
  t.equal((await call('GET', '/me', second)).status, 401, 'every token of the user is refused')
  t.equal((await call('GET', '/me', await login())).status, 200, 'a login after logout everywhere works')
  t.equal(await stop(server), 0, 'close-with-grace closes the app and exits 0')
})

t.test('examples/basic.ts on Redis: a token logged out through one instance is refused by another', async (t) => {
  const env = { REDIS_URL: redis?.redisUrl ?? '', JWT_SECRET: 'a-secret-from-the-environment-long-enough' }
  const [a, b] = await Promise.all([startServer(env, 'examples/basic.ts'), startServer(env, 'examples/basic.ts')])
  t.teardown(() => { a?.child.kill('SIGKILL'); b?.child.kill('SIGKILL') })
  const token = await basicClient(a.base).login()
  t.equal((await basicClient(b.base).call('GET', '/me', token)).status, 200)
  t.equal((await basicClient(b.base).call('POST', '/logout', token)).status, 204)
  t.equal((await basicClient(a.base).call('GET', '/me', token)).status, 401)
  t.same(await Promise.all([stop(a), stop(b)]), [0, 0])
})
