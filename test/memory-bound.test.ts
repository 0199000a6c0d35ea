import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { DenyList } from '../index.js'
import { jtiKey } from '../lib/keys.js'

// The README states what one live entry costs in process (memory store, mirror mode); this holds it to that bound
// with a million entries shaped like real ones: a UUID jti under a subject, keyed as the mirror keys them.
const ENTRIES = 1_000_000
const BOUND_BYTES_PER_ENTRY = 300

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

function heapUsed (): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

t.test(`${ENTRIES} live entries stay within ${BOUND_BYTES_PER_ENTRY} bytes each`, async (t) => {
  const before = heapUsed()
  const list = new DenyList({ maxEntries: ENTRIES })
  const expiresAt = Date.now() + 3600_000
  for (let i = 0; i < ENTRIES; i++) list.addToken(jtiKey('jwt-revoke:', randomUUID(), `user-${i % 100_000}`), expiresAt)
  const perEntry = (heapUsed() - before) / ENTRIES
  t.equal(list.size, ENTRIES)
  t.ok(perEntry < BOUND_BYTES_PER_ENTRY, `${perEntry.toFixed(1)} bytes per entry`)
  t.equal(list.has(jtiKey('jwt-revoke:', 'not-there', 'user-1'), undefined, undefined), false)
})
