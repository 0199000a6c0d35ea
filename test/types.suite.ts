// Proves the public types: this file must compile under `tsc --noEmit` (npm test runs it), and each line under an
// expect-error marker must fail to compile, or tsc reports the marker as unused. It also runs, so the values exist.
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance, type FastifyRequest, type onRequestHookHandler } from 'fastify'
import type { Cluster as Cluster5, Redis as Redis5 } from 'ioredis-5'
import { Cluster, Redis } from 'ioredis'
import t from 'tap'
import jwtRevoke, {
  MemoryStore, RedisStore, errors, fastifyJwtRevoke,
  type JwtRevokeOptions, type MirrorStatus, type RevocationStats, type RevocationStore, type RevokeSubjectOptions,
  type Revoked, type RevokedListener, type RevokedReason, type WatchOptions, type WatchStatus,
  backchannelLogout, type BackchannelLogoutOptions, type RevocationApi, type RevokeSessionOptions
} from '../index.js'
import { SECRET } from './helpers/app.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function assertType<T extends true> (_proof: T): void {}

assertType<Equal<FastifyInstance['revoke'], (token: string | Record<string, unknown>) => Promise<void>>>(true)
assertType<Equal<FastifyInstance['revokeSubject'], (sub: string, options?: RevokeSubjectOptions) => Promise<number>>>(true)
assertType<Equal<FastifyInstance['isRevoked'], (token: string | Record<string, unknown>) => Promise<boolean>>>(true)
assertType<Equal<FastifyInstance['authenticate'], onRequestHookHandler>>(true)
assertType<Equal<FastifyInstance['jwtRevoke']['store'], RevocationStore>>(true)
assertType<Equal<ReturnType<FastifyInstance['jwtRevoke']['stats']>, RevocationStats & { mirror?: MirrorStatus }>>(true)
assertType<Equal<FastifyRequest['revokeToken'], () => Promise<void>>>(true)
assertType<Equal<FastifyInstance['revokeSession'], (sid: string, options?: RevokeSessionOptions) => Promise<number>>>(true)
assertType<Equal<FastifyInstance['jwtRevoke']['revocations'], RevocationApi>>(true)
assertType<Equal<BackchannelLogoutOptions['revoke'], 'session' | 'subject' | undefined>>(true)
// @ts-expect-error the receiver needs the provider's issuer
const noIssuer: BackchannelLogoutOptions = { audience: 'client' }
assertType<Equal<JwtRevokeOptions['onStoreError'], 'deny' | 'allow' | undefined>>(true)
assertType<Equal<FastifyRequest['onRevoked'], (listener: RevokedListener, options?: WatchOptions) => () => void>>(true)
assertType<Equal<FastifyInstance['jwtRevoke']['watch'], (payload: Record<string, unknown>, listener: RevokedListener, options?: WatchOptions) => () => void>>(true)
assertType<Equal<ReturnType<FastifyInstance['jwtRevoke']['watchStatus']>, WatchStatus>>(true)
assertType<Equal<RevokedListener, (revoked: Revoked) => void>>(true)
assertType<Equal<Revoked['reason'], RevokedReason>>(true)
assertType<Equal<RevokedReason, 'token' | 'subject' | 'session' | 'recheck' | 'gap'>>(true)
assertType<Equal<WatchOptions['onGap'], 'recheck' | 'close' | undefined>>(true)
// @ts-expect-error the gap policy is one of two words
const badGap: WatchOptions = { onGap: 'ignore' }
// @ts-expect-error a listener is told a Revoked, not a string
const badListener = (request: FastifyRequest): (() => void) => request.onRevoked((reason: string) => reason)
assertType<Equal<JwtRevokeOptions['storeTimeout'], number | undefined>>(true)

const options: JwtRevokeOptions = { store: 'memory', storeTimeout: 100, onStoreError: 'deny', keyPrefix: 'x:' }
const renamed: JwtRevokeOptions = { decorators: { authenticate: 'checkToken', revokeToken: false } }
assertType<Equal<NonNullable<JwtRevokeOptions['decorators']>['authenticate'], string | false | undefined>>(true)
// @ts-expect-error a decorator is renamed (a string) or left out (false), never true
const keepAll: JwtRevokeOptions = { decorators: { authenticate: true } }
// @ts-expect-error an unknown store name is a type error
const wrongStore: JwtRevokeOptions = { store: 'postgres' }
// @ts-expect-error options are checked for typos
const typo: JwtRevokeOptions = { storeTimeOut: 100 }
const custom: RevocationStore = new MemoryStore()
// @ts-expect-error revoke takes a token or a payload
const badRevoke = (app: FastifyInstance): Promise<void> => app.revoke(42)

// The redis option takes a client of ioredis 5 (what @fastify/redis 7 and 8 give) as well as one of ioredis 6: the
// plugin reads only its options. This was TS2769 on register() with an ioredis 5 client.
const registerWith = async (app: FastifyInstance, redis: Redis5 | Cluster5 | Redis | Cluster): Promise<void> => {
  await app.register(jwtRevoke, { redis })
}
// @ts-expect-error what is not a client is refused
const notAClient: JwtRevokeOptions = { redis: { get: () => null } }

t.test('the exported values match their types', async (t) => {
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(jwtRevoke, options)
  app.get('/', { onRequest: [app.authenticate] }, async () => 'ok')
  await app.ready()
  t.type(app.revoke, 'function')
  t.type(app.revokeSubject, 'function')
  t.type(app.revokeSession, 'function')
  t.type(backchannelLogout, 'function')
  t.same(noIssuer, { audience: 'client' })
  t.type(app.isRevoked, 'function')
  t.type(app.authenticate, 'function')
  t.equal(fastifyJwtRevoke, jwtRevoke, 'the named export is the default one')
  t.type(RedisStore, 'function')
  t.equal(new errors.RevokedError().code, 'FST_JWT_REVOKED')
  t.ok(custom instanceof MemoryStore)
  t.same([wrongStore.store, typo, typeof badRevoke, typeof registerWith, typeof notAClient.redis], ['postgres', { storeTimeOut: 100 }, 'function', 'function', 'object'])
  t.same([keepAll.decorators, renamed.decorators], [{ authenticate: true }, { authenticate: 'checkToken', revokeToken: false }])
  t.same([badGap.onGap, typeof badListener], ['ignore', 'function'])
  t.type(app.jwtRevoke.watch, 'function')
  t.equal(app.jwtRevoke.watchStatus().watched, 0)
  await app.close()
})
