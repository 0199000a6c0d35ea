import t from 'tap'
import { cutoffEntry, encodeId, entryKind, jtiEntry, redisPrefix } from '../lib/keys.js'
import { mirrorChannel, parseMessage } from '../lib/stores/mirror-message.js'

t.test('an entry is read by its shape alone, whatever the ids', async (t) => {
  const ids = ['cutoff', 'jti', 'a:b', '{x}', 'x}:cutoff', '~abc', 'ü', 'x'.repeat(129), 'plain-id_1.2@x=y+z']
  for (const jti of ids) {
    t.equal(entryKind(jtiEntry(jti, undefined)), 'token', `jti ${jti.slice(0, 20)} without sub`)
    for (const sub of ids) t.equal(entryKind(jtiEntry(jti, sub)), 'token', `jti ${jti.slice(0, 20)} of sub ${sub.slice(0, 20)}`)
  }
  for (const sub of ids) t.equal(entryKind(cutoffEntry(sub)), 'cutoff', `cutoff of ${sub.slice(0, 20)}`)
  t.equal(entryKind(`{${encodeId('ü')}}:jti:${encodeId('{x}')}`), 'token', 'hashed forms')
  for (const stranger of ['{a}:jti:b:c', '{a}:cutoff:x', '{a}', '{a}:other', 'a:jti', '{a}{b}:jti', '{}:jti', '{~short}:jti', '{a b}:jti', '{a}:jti:', '']) {
    t.equal(entryKind(stranger), undefined, `not ours: ${JSON.stringify(stranger)}`)
  }
})

t.test('the channel carries the client prefix and the plugin prefix', async (t) => {
  t.equal(mirrorChannel({ options: {} }, 'jwt-revoke:'), 'jwt-revoke:mirror')
  t.equal(mirrorChannel({ options: { keyPrefix: 'app1:' } }, 'jwt-revoke:'), 'app1:jwt-revoke:mirror')
  t.equal(redisPrefix({ options: { keyPrefix: 'app1:' } }, 'p:'), 'app1:p:')
})

t.test('messages: ours are read, anything else is ignored', async (t) => {
  t.same(parseMessage('["t","{u}:jti:j",60]'), ['t', '{u}:jti:j', 60])
  t.same(parseMessage('["c","{u}:cutoff",1700000000,60]'), ['c', '{u}:cutoff', 1700000000, 60])
  t.same(parseMessage('["p","someone"]'), ['p', 'someone'])
  const junk = ['not json', '{"t":1}', '"t"', 'null', '[]', '["t"]', '["t",1,60]', '["t","{u}:cutoff",60]', '["t","{u}:jti:j","60"]',
    '["t","{u}:jti:j",60,1]', '["c","{u}:jti:j",1,60]', '["c","{u}:cutoff",1]', '["c","{u}:cutoff",1,null]', '["p","a","b"]',
    '["x","{u}:jti:j",60]', '["t","{u}:jti:j",1e999]']
  for (const text of junk) t.equal(parseMessage(text), undefined, text)
})
