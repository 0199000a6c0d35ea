import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import type { RevocationStore } from '../../index.js'
import { bearer, buildApp, storeVariants } from '../helpers/app.js'
import { inBatches, sleep } from '../helpers/reliability.js'

// Issue 4, races: revoke() against requests carrying the same token, and revokeSubject() against logins.

const TRIALS = 10_000
const BATCH = 200

// Generous for a busy 2-core machine (2 x 10 000 trials and a second of logins per store); tap's default is 30 s per file.
t.setTimeout(120_000)
const variants = await storeVariants(t)

async function status (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
}

for (const variant of variants) {
  t.test(`${variant.name} store: once revoke() has resolved, 0 acceptances over ${TRIALS} trials`, async (t) => {
    // With Redis, a second instance on its own connection serves too: the write and the reads take different sockets.
    // The deadline is generous: the race is about correctness, and 200 requests at once stall a small machine.
    const options = variant.options({ storeTimeout: 5000 })
    const instances = await Promise.all(variant.name !== 'memory' ? [buildApp(options), buildApp(variant.options({ storeTimeout: 5000 }))] : [buildApp(options)])
    t.teardown(() => Promise.all(instances.map(({ app }) => app.close())))
    const [revoker] = instances
    const racing = new Map<number, number>()
    let acceptedAfter = 0
    await inBatches(TRIALS, BATCH, async (i) => {
      const token = revoker!.sign()
      const server = instances[i % instances.length]!.app
      // A request in flight while revoke() runs: started with it, or a moment before (a few event-loop turns, so its
      // store read may be on the wire before the write). Either answer is allowed for it.
      const racer = status(server, token)
      if (i % 2 === 1) await sleep(i % 4)
      const revoked = revoker!.app.revoke(token)
      await revoked
      // Started once revoke() has resolved, on the other instance when there is one: must be refused.
      if (await status(instances[(i + 1) % instances.length]!.app, token) !== 401) acceptedAfter++
      const code = await racer
      racing.set(code, (racing.get(code) ?? 0) + 1)
    })
    t.equal(acceptedAfter, 0, `no request started after revoke() resolved was accepted (${TRIALS} trials)`)
    t.equal([...racing.values()].reduce((sum, n) => sum + n, 0), TRIALS, 'every trial ran')
    t.same([...racing.keys()].filter((code) => code !== 200 && code !== 401), [], 'requests racing revoke() got 200 or 401')
    t.comment(`racing requests: ${JSON.stringify(Object.fromEntries(racing))}`)
  })
}

/** A real store that also remembers the cutoff each revokeSubject() wrote, to judge each login against it. */
function recordingCutoffs (inner: RevocationStore): { store: RevocationStore, cutoffs: Map<string, number> } {
  const cutoffs = new Map<string, number>()
  const store: RevocationStore = {
    isRevoked: (claims) => inner.isRevoked(claims),
    revoke: (claims, ttl) => inner.revoke(claims, ttl),
    revokeSubject: async (sub, cutoff, ttl) => {
      cutoffs.set(sub, cutoff)
      await inner.revokeSubject(sub, cutoff, ttl)
    }
  }
  return { store, cutoffs }
}

interface Login { sub: string, token: string, iat: number, natural: boolean }

for (const variant of variants) {
  t.test(`${variant.name} store: revokeSubject racing logins: accepted iff issued strictly after the cutoff second`, async (t) => {
    const probe = await buildApp(variant.options())
    t.teardown(() => probe.app.close())
    const { store, cutoffs } = recordingCutoffs(probe.app.jwtRevoke.store)
    const { app, sign } = await buildApp({ store, storeTimeout: 5000 })
    t.teardown(() => app.close())

    const login = (sub: string, claims: Record<string, unknown> = {}): Login => {
      const token = sign({ sub, ...claims })
      return { sub, token, iat: app.jwt.decode<{ iat: number }>(token)!.iat, natural: claims.iat === undefined }
    }
    const subjects = Array.from({ length: 300 }, () => `racer-${randomUUID()}`)
    const logins = (await Promise.all(subjects.map(async (sub) => {
      const cut = app.revokeSubject(sub)
      const issued = [login(sub)]
      await Promise.resolve()
      issued.push(login(sub))
      // Logins spread over the next second and a bit, so that many land in the next second.
      const later = sleep(Math.random() * 1100).then(() => login(sub))
      await cut
      issued.push(login(sub), await later)
      const cutoff = cutoffs.get(sub)!
      issued.push(login(sub, { iat: cutoff - 1 }), login(sub, { iat: cutoff }), login(sub, { iat: cutoff + 1 }))
      return issued
    }))).flat()

    // How the logins whose iat the clock chose (not the explicit cutoff - 1, cutoff, cutoff + 1 ones) fell.
    const tally = { before: 0, sameSecond: 0, after: 0 }
    const wrong: string[] = []
    await inBatches(logins.length, BATCH, async (i) => {
      const { sub, token, iat, natural } = logins[i]!
      const cutoff = cutoffs.get(sub)!
      const expected = iat > cutoff ? 200 : 401
      // The cutoff is kept to the millisecond; the signer writes whole-second iats.
      const second = Math.floor(cutoff)
      if (natural) tally[iat < second ? 'before' : iat === second ? 'sameSecond' : 'after']++
      const got = await status(app, token)
      if (got !== expected) wrong.push(`iat ${iat} vs cutoff ${cutoff}: ${got}, expected ${expected}`)
    })
    t.same(wrong.slice(0, 10), [], `${logins.length} logins, each judged against its subject's cutoff (${wrong.length} wrong)`)
    t.ok(tally.sameSecond > 0 && tally.after > 0, `racing logins fell both in the cutoff second and after it: ${JSON.stringify(tally)}`)
    t.equal(tally.before, 0, 'no login issued after revokeSubject() was called has an iat before its cutoff')
  })
}
