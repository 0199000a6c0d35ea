import t from 'tap'
import { freePort } from './helpers/redis-server.js'

// The test harness itself: test servers never collide.

t.test("a Cluster node's port leaves room for its bus port (+10000): valid and free", async (t) => {
  // The kernel picks ports up to 60999: before, a third of the picks had no bus port (above 65535).
  const ports = await Promise.all(Array.from({ length: 60 }, async () => await freePort({ clusterBus: true })))
  t.same(ports.filter((port) => port + 10_000 > 65_535), [], 'every bus port exists')
})
