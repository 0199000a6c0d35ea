// No gap is trusted: when the watches' subscription is lost (a silent connection, a cut one, a Redis restart), a
// revocation written meanwhile still ends the stream, by a check of the store once the subscription is back, or at
// once for a watch that asked for onGap 'close'. Real redis-servers behind a TCP proxy that silences or cuts only the
// watching instance's connections; the writer reaches Redis directly.
import t, { type Test } from 'tap'
import { startRedisFor } from './helpers/redis-server.js'
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js'
import { buildWatchApp, openStream, settlesWithin, until, type WatchApp } from './helpers/watch.js'

async function checked ({ app }: WatchApp): Promise<void> {
  await until(() => app.jwtRevoke.watchStatus().live && app.jwtRevoke.watchStatus().pending === 0, 15_000, 'live and checked')
}

let prefixes = 0
// Faults take seconds to detect (three missed heartbeats) on a loaded machine.
t.setTimeout(180_000)

for (const mode of ['lookup', 'mirror'] as const) {
  t.test(`${mode}: faults of the subscription`, async (t) => {
    const redis = await startRedisFor(t)
    const setup = async (t: Test): Promise<{ watcher: WatchApp, writer: WatchApp, proxy: TcpProxy }> => {
      const proxy = await startTcpProxy(redis.port)
      t.teardown(() => proxy.close())
      const keyPrefix = `gap-${prefixes++}:`
      const watcher = await buildWatchApp(t, { store: 'redis', redis: `redis://127.0.0.1:${proxy.port}`, keyPrefix, mode, onStoreError: 'allow' })
      // Patient: it writes right after a Redis restart, while its client reconnects.
      const writer = await buildWatchApp(t, { store: 'redis', redis: redis.url, keyPrefix, storeTimeout: 10_000 })
      return { watcher, writer, proxy }
    }

    t.test('a silent subscription: a revocation made during the silence ends the stream once it is detected', async (t) => {
      const { watcher, writer, proxy } = await setup(t)
      const token = watcher.sign()
      const stream = await openStream(watcher.base, token)
      const kept = watcher.sign()
      const bystander = await openStream(watcher.base, kept)
      await checked(watcher)
      proxy.silence()
      await writer.app.revoke(token)
      t.equal(await stream.ended, 'recheck', 'missed on the wire, found by the check after the silence')
      t.ok(watcher.app.jwtRevoke.watchStatus().gaps >= 1, 'the gap is counted')
      t.notOk(await settlesWithin(bystander.ended, 200), 'a token that was not revoked stays open')
      await checked(watcher)
      await writer.app.revoke(kept)
      t.equal(await bystander.ended, 'token', 'heard live again on the new subscription')
    })

    t.test('a cut subscription: a revocation made while it is down ends the stream once it is back', async (t) => {
      const { watcher, writer, proxy } = await setup(t)
      const token = watcher.sign()
      const stream = await openStream(watcher.base, token)
      await checked(watcher)
      proxy.cut()
      await until(() => !watcher.app.jwtRevoke.watchStatus().live, 10_000, 'the loss is seen')
      await writer.app.revoke(token)
      t.notOk(stream.done, 'not heard while the subscription is down')
      proxy.restore()
      t.equal(await stream.ended, 'recheck')
    })

    t.test("onGap 'close': the stream ends as soon as the subscription is lost", async (t) => {
      const { watcher, proxy } = await setup(t)
      const closing = await openStream(watcher.base, watcher.sign(), '?onGap=close')
      const staying = await openStream(watcher.base, watcher.sign())
      await checked(watcher)
      proxy.cut()
      t.equal(await closing.ended, 'gap')
      proxy.restore()
      await checked(watcher)
      t.notOk(staying.done, "the default, 'recheck', keeps a token that was not revoked")
      staying.abort()
    })

    t.test('a Redis restart: a revocation after it still ends the stream', async (t) => {
      const { watcher, writer } = await setup(t)
      const token = watcher.sign()
      const stream = await openStream(watcher.base, token)
      await checked(watcher)
      await redis.stop()
      await redis.start()
      // The writer's own client may fail a first write while it reconnects: what matters is that it lands.
      for (let tries = 0; ; tries++) {
        try {
          await writer.app.revoke(token)
          break
        } catch (error) {
          if (tries > 50) throw error
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      t.match(await stream.ended, /^(token|recheck)$/)
    })
  })
}
