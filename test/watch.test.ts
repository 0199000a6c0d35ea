// Open connections end when their token is revoked: request.onRevoked and app.jwtRevoke.watch, through real HTTP
// streams, on the memory store (in process) and on Redis in both modes, whoever writes the revocation.
import t from 'tap'
import { MemoryStore } from '../index.js'
import { buildWatchApp, openStream, settlesWithin, until } from './helpers/watch.js'

t.test('memory store: a stream ends when its token is revoked, with the reason', async (t) => {
  const { app, base, sign } = await buildWatchApp(t)
  const token = sign()
  const stream = await openStream(base, token)
  t.equal(app.jwtRevoke.watchStatus().watched, 1, 'one token watched')
  await app.revoke(token)
  t.equal(await stream.ended, 'token')
  t.equal(app.jwtRevoke.watchStatus().watched, 0, 'forgotten once told')
})
