import type { JWT } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { authentication } from './lib/authenticate.js'
import { checkPayload, checkVerified, kChecked, type Check, type CheckPolicy } from './lib/check.js'
import type { TokenPayload } from './lib/claims.js'
import { guardVerify } from './lib/guard.js'
import { resolveOptions, type JwtRevokeOptions } from './lib/options.js'
import { claimsObject } from './lib/payload.js'
import { revocationApi, type RevocationApi, type RevokeSessionOptions, type RevokeSubjectOptions, type TokenOrPayload } from './lib/revoke.js'
import { createStore, startStore } from './lib/stores/create.js'
import { MirrorStore, type MirrorStatus } from './lib/stores/mirror.js'
import { BurstLog, emptyStats, type RevocationStats } from './lib/stats.js'
import type { RevocationStore } from './lib/stores/store.js'
import { keyFromFunction } from './lib/secret-function.js'
import { jwtVerifiers, requestPrototype, type RequestVerify } from './lib/verifiers.js'

export * as errors from './lib/errors.js'
export { backchannelLogout, type BackchannelLogoutOptions } from './lib/backchannel-logout.js'
export { MemoryStore, type MemoryStoreOptions } from './lib/stores/memory.js'
export { DenyList, type DenyListOptions } from './lib/stores/deny-list.js'
export { OptionsSchema } from './lib/options.js'
export { RedisStore, type RedisStoreOptions } from './lib/stores/redis.js'
export { MirrorStore, type MirrorStoreOptions, type MirrorStatus } from './lib/stores/mirror.js'
export type { RevocationClaims, RevocationStore } from './lib/stores/store.js'
export type { JwtRevokeOptions, RevokeSubjectOptions, RevokeSessionOptions, TokenOrPayload, RevocationApi, RevocationStats, TokenPayload }

/** What app.jwtRevoke exposes besides the top-level decorators. */
export interface JwtRevokeDecorator {
  /** The store in use (memory, Redis, or yours). */
  store: RevocationStore
  /** Runs the revocation check on a payload verified elsewhere; rejects with FST_JWT_REVOKED when it is revoked. */
  check (request: FastifyRequest, payload: unknown): Promise<void>
  /** A snapshot of the counters: checks, refusals, revocations, store errors, fail-open passes (and the mirror's state). */
  stats (): RevocationStats & { mirror?: MirrorStatus }
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
  }
  interface FastifyContextConfig {
    /** No effect any more: the check runs wherever a token is verified. Kept so that existing route configs compile. */
    jwtRevoke?: boolean
  }
}

/**
 * A function for @fastify/jwt's `trusted` option. Not needed any more: every request.jwtVerify() is checked. Kept for
 * apps that pass it; the check it makes is not repeated for the same token and request.
 */
export async function trusted (request: FastifyRequest, payload: unknown): Promise<boolean> {
  await request.server.jwtRevoke.check(request, payload)
  return true
}

async function jwtRevoke (fastify: FastifyInstance, rawOptions: JwtRevokeOptions): Promise<void> {
  const options = resolveOptions(rawOptions, fastify.hasDecorator('redis'))
  const store = createStore(options, fastify)
  if (typeof options.store !== 'object') fastify.addHook('onClose', async () => { await store.close?.() })
  await startStore(store, fastify.log, options.storeTimeout)
  const stats = emptyStats()
  const policy: CheckPolicy = {
    store,
    onStoreError: options.onStoreError,
    storeTimeout: options.storeTimeout,
    requireJti: options.requireJti,
    maxTokenLifetime: options.maxTokenLifetime,
    stats,
    failures: new BurstLog()
  }
  const check: Check = (request, payload, done) => { checkVerified(policy, request, payload, done) }

  // Every @fastify/jwt registration in scope (namespaces included) gets its request.*Verify guarded on this context's
  // request prototype: the check runs wherever a token is verified. Again at onReady, for namespaces registered after
  // the plugin: before the first request, whatever the order of registration.
  const prototype = requestPrototype(fastify)
  const jwts: JWT[] = []
  const guarded = new WeakSet<RequestVerify>()
  const { authenticate, claimsOf, use } = authentication(check)
  const guardVerifiers = (): void => {
    for (const { namespace, jwt, method } of jwtVerifiers(fastify, prototype)) {
      if (guarded.has(prototype[method] as RequestVerify)) continue
      // @fastify/jwt always sets it (default 'user'); its types just do not say so.
      const userProperty = (jwt.options as unknown as { decoratorName: string }).decoratorName
      const verify = guardVerify(prototype[method] as RequestVerify, jwt, userProperty, check)
      guarded.add(verify)
      prototype[method] = verify
      jwts.push(jwt)
      if (namespace === undefined) use({ jwt, verify, userProperty, staticKey: !keyFromFunction(jwt) })
    }
  }
  guardVerifiers()
  fastify.addHook('onReady', async () => { guardVerifiers() })

  const api = revocationApi(jwts, { ...options, store, log: fastify.log, stats })

  fastify.decorateRequest(kChecked, null)
  fastify.decorateRequest('revokeToken', async function revokeToken (this: FastifyRequest): Promise<void> {
    await api.revoke({ ...await claimsOf(this) })
  })
  fastify.decorate('revoke', api.revoke)
  fastify.decorate('revokeSubject', api.revokeSubject)
  fastify.decorate('revokeSession', api.revokeSession)
  fastify.decorate('isRevoked', api.isRevoked)
  fastify.decorate('authenticate', authenticate)
  fastify.decorate('jwtRevoke', {
    store,
    check: (request: FastifyRequest, payload: unknown) => checkPayload(policy, request, claimsObject(payload)),
    stats: () => store instanceof MirrorStore ? { ...stats, mirror: store.status() } : { ...stats },
    revocations: api
  } satisfies JwtRevokeDecorator)
}

export default fp(jwtRevoke, {
  fastify: '5.x',
  name: 'fastify-jwt-revoke',
  dependencies: ['@fastify/jwt']
})
