import type { JWT } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { authentication } from './lib/authenticate.js'
import { checkPayload, checkVerified, kChecked, type Check, type CheckPolicy } from './lib/check.js'
import { claimDecorators } from './lib/decorators.js'
import type { TokenPayload } from './lib/claims.js'
import { guardVerify } from './lib/guard.js'
import { resolveOptions, type JwtRevokeOptions } from './lib/options.js'
import { claimsObject } from './lib/payload.js'
import { revocationApi, type RevocationApi, type RevokeSessionOptions, type RevokeSubjectOptions, type TokenOrPayload } from './lib/revoke.js'
import { announceStore, createStore, startStore } from './lib/stores/create.js'
import { BurstLog, emptyStats, type RevocationStats } from './lib/stats.js'
import type { RevocationStore, StoreStatus } from './lib/stores/store.js'
import { acceptedPastExp } from './lib/tolerance.js'
import { jwtVerifiers, requestPrototype, type RequestVerify } from './lib/verifiers.js'
import type { RevokedListener, WatchOptions, WatchStatus } from './lib/watch/hub.js'
import { watching } from './lib/watch/setup.js'

export * as errors from './lib/errors.js'
export { backchannelLogout, type BackchannelLogoutOptions } from './lib/backchannel-logout.js'
export { MemoryStore, type MemoryStoreOptions } from './lib/stores/memory.js'
export { DenyList, type DenyListOptions } from './lib/stores/deny-list.js'
export { OptionsSchema } from './lib/options.js'
export { RedisStore, type RedisStoreOptions } from './lib/stores/redis.js'
export { MirrorStore, type MirrorStoreOptions, type MirrorStatus } from './lib/stores/mirror.js'
export type { RevocationClaims, RevocationStore, StoreStatus } from './lib/stores/store.js'
export type { JwtRevokeOptions, RevokeSubjectOptions, RevokeSessionOptions, TokenOrPayload, RevocationApi, RevocationStats, TokenPayload }
export type { Revoked, RevokedListener, WatchOptions, WatchStatus } from './lib/watch/hub.js'
export type { RevokedReason } from './lib/watch/kinds.js'

/** What app.jwtRevoke exposes besides the top-level decorators. */
export interface JwtRevokeDecorator {
  /** The store in use (memory, Redis, or yours). */
  store: RevocationStore
  /** Runs the revocation check on a payload verified elsewhere; rejects with FST_JWT_REVOKED when it is revoked. */
  check (request: FastifyRequest, payload: unknown): Promise<void>
  /** A snapshot of the counters: checks, refusals, revocations, store errors, fail-open passes (and the mirror's state). */
  stats (): RevocationStats & { mirror?: StoreStatus }
  /**
   * Calls listener once, when the token with this verified payload is revoked, by anyone (this instance, another one,
   * the ops CLI); answers the function that forgets the watch. For a connection not tied to a request; otherwise
   * request.onRevoked. Throws FST_JWT_REVOKE_UNSUPPORTED_SETUP on a custom store, which announces no revocations.
   */
  watch (payload: Record<string, unknown>, listener: RevokedListener, options?: WatchOptions): () => void
  /** How many tokens are watched, whether every revocation is heard now, and how often that was lost. */
  watchStatus (): WatchStatus
  /** revoke, revokeSubject, revokeSession and isRevoked under these names, whatever the app's decorators are called. */
  revocations: RevocationApi
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Deny-lists a token (string, verified first, or an already verified payload) until it expires. */
    revoke (token: TokenOrPayload): Promise<void>
    /** Revokes every token of `sub` issued at or before `before` (default now); resolves with that cutoff (Unix seconds). */
    revokeSubject (sub: string, options?: RevokeSubjectOptions): Promise<number>
    /**
     * Revokes every token whose `sid` claim is `sid` (an OpenID Connect session) issued at or before `before` (default
     * now); resolves with that cutoff (Unix seconds). Kept as long as a subject's cutoff.
     */
    revokeSession (sid: string, options?: RevokeSessionOptions): Promise<number>
    /** Whether a token is revoked (the string is decoded, not verified: asking changes nothing). */
    isRevoked (token: TokenOrPayload): Promise<boolean>
    /** onRequest handler: request.jwtVerify() (checked like every verification), answering 401 when it fails. */
    authenticate: onRequestHookHandler
    jwtRevoke: JwtRevokeDecorator
  }
  interface FastifyRequest {
    /** Revokes the token this request last verified (logout); verifies request.jwtVerify()'s token if none was. */
    revokeToken (): Promise<void>
    /**
     * Calls listener once, when the token this request verified is revoked, by anyone: for a WebSocket or an event
     * stream, which must then close. Answers the function that forgets the watch; the connection's close forgets it too.
     */
    onRevoked (listener: RevokedListener, options?: WatchOptions): () => void
  }
}

async function jwtRevoke (fastify: FastifyInstance, rawOptions: JwtRevokeOptions): Promise<void> {
  const options = resolveOptions(rawOptions, fastify.hasDecorator('redis'))
  // Before anything is started or added: a name already taken stops the registration with nothing changed.
  const decorate = claimDecorators(fastify, options.decorators)
  const store = createStore(options, fastify)
  announceStore(fastify, options)
  if (typeof options.store !== 'object') fastify.addHook('onClose', async () => { await store.close?.() })
  await startStore(store, fastify.log, options.storeTimeout)
  const stats = emptyStats()
  // Filled in as @fastify/jwt registrations are guarded, below; how long past exp the app may accept a token follows them.
  const jwts: JWT[] = []
  const pastExp = acceptedPastExp(jwts, options.acceptExpiredFor)
  const policy: CheckPolicy = {
    store,
    onStoreError: options.onStoreError,
    storeTimeout: options.storeTimeout,
    requireJti: options.requireJti,
    maxTokenLifetime: options.maxTokenLifetime,
    acceptedPastExp: pastExp,
    stats,
    failures: new BurstLog()
  }
  const check: Check = (request, payload, done) => { checkVerified(policy, request, payload, done) }

  // Every @fastify/jwt registration in scope (namespaces included) gets its request.*Verify guarded on this context's
  // request prototype: the check runs wherever a token is verified. Again at onReady, for namespaces registered after
  // the plugin: before the first request, whatever the order of registration.
  const prototype = requestPrototype(fastify)
  const guarded = new WeakSet<RequestVerify>()
  const { authenticate, claimsOf, setDefaultVerifier } = authentication()
  const guardVerifiers = (): void => {
    for (const { namespace, jwt, method } of jwtVerifiers(fastify, prototype)) {
      if (guarded.has(prototype[method] as RequestVerify)) continue
      // @fastify/jwt always sets it (default 'user'); its types just do not say so.
      const userProperty = (jwt.options as unknown as { decoratorName: string }).decoratorName
      const verify = guardVerify(prototype[method] as RequestVerify, jwt, userProperty, check)
      guarded.add(verify)
      prototype[method] = verify
      jwts.push(jwt)
      if (namespace === undefined) setDefaultVerifier(verify)
    }
  }
  guardVerifiers()
  fastify.addHook('onReady', async () => { guardVerifiers() })

  const api = revocationApi(jwts, { ...options, acceptedPastExp: pastExp, store, log: fastify.log, stats })

  // Open connections: tokens watched until revoked. Nothing is subscribed before the first watch.
  const watches = watching({ store, storeTimeout: options.storeTimeout, log: fastify.log })
  fastify.addHook('onClose', async () => { watches.hub?.close() })
  fastify.decorateRequest('onRevoked', function onRevoked (this: FastifyRequest, listener: RevokedListener, watchOptions?: WatchOptions) {
    return watches.onRevoked(this, listener, watchOptions)
  })

  fastify.decorateRequest(kChecked, null)
  decorate('revokeToken', async function revokeToken (this: FastifyRequest): Promise<void> {
    await api.revokeVerified(await claimsOf(this))
  })
  decorate('revoke', api.revoke)
  decorate('revokeSubject', api.revokeSubject)
  decorate('revokeSession', api.revokeSession)
  decorate('isRevoked', api.isRevoked)
  decorate('authenticate', authenticate)
  decorate('jwtRevoke', {
    store,
    check: (request: FastifyRequest, payload: unknown) => checkPayload(policy, request, claimsObject(payload)),
    stats: () => store.status === undefined ? { ...stats } : { ...stats, mirror: store.status() },
    watch: watches.watch,
    watchStatus: () => watches.hub?.status() ?? { watched: 0, live: false, gaps: 0, rechecks: 0, pending: 0 },
    revocations: { revoke: api.revoke, revokeSubject: api.revokeSubject, revokeSession: api.revokeSession, isRevoked: api.isRevoked }
  } satisfies JwtRevokeDecorator)
}

/** The plugin; also exported as `fastifyJwtRevoke` and (from CommonJS) as `.default`, as @fastify plugins are. */
export const fastifyJwtRevoke = fp(jwtRevoke, {
  fastify: '5.x',
  name: 'fastify-jwt-revoke',
  dependencies: ['@fastify/jwt']
})
export default fastifyJwtRevoke
