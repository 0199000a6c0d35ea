import type { FastifyInstance, FastifyRequest, RouteOptions, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { authentication } from './lib/authenticate.js'
import { checkPayload, kChecked, passedCheck, requestVerifyingHook, revocationHook, type CheckPolicy } from './lib/check.js'
import type { TokenPayload } from './lib/claims.js'
import { resolveOptions, type JwtRevokeOptions } from './lib/options.js'
import { revocationApi, type RevocationApi, type RevokeSubjectOptions, type TokenOrPayload } from './lib/revoke.js'
import { createStore, startStore } from './lib/stores/create.js'
import { MirrorStore, type MirrorStatus } from './lib/stores/mirror.js'
import { BurstLog, emptyStats, type RevocationStats } from './lib/stats.js'
import type { RevocationStore } from './lib/stores/store.js'
import { tokenFinder } from './lib/token.js'
import { keyFromFunction } from './lib/secret-function.js'

export * as errors from './lib/errors.js'
export { MemoryStore, type MemoryStoreOptions } from './lib/stores/memory.js'
export { DenyList, type DenyListOptions } from './lib/stores/deny-list.js'
export { OptionsSchema } from './lib/options.js'
export { RedisStore, type RedisStoreOptions } from './lib/stores/redis.js'
export { MirrorStore, type MirrorStoreOptions, type MirrorStatus } from './lib/stores/mirror.js'
export type { RevocationClaims, RevocationStore } from './lib/stores/store.js'
export type { JwtRevokeOptions, RevokeSubjectOptions, TokenOrPayload, RevocationApi, RevocationStats, TokenPayload }

/** What app.jwtRevoke exposes besides the top-level decorators. */
export interface JwtRevokeDecorator {
  /** The store in use (memory, Redis, or yours). */
  store: RevocationStore
  /** Runs the revocation check on a payload verified elsewhere; rejects with FST_JWT_REVOKED when it is revoked. */
  check (request: FastifyRequest, payload: unknown): Promise<void>
  /** A snapshot of the counters: checks, refusals, revocations, store errors, fail-open passes (and the mirror's state). */
  stats (): RevocationStats & { mirror?: MirrorStatus }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Deny-lists a token (string, verified first, or an already verified payload) until it expires. */
    revoke (token: TokenOrPayload): Promise<void>
    /** Revokes every token of `sub` issued at or before `before` (default now); resolves with that cutoff (Unix seconds). */
    revokeSubject (sub: string, options?: RevokeSubjectOptions): Promise<number>
    /** Whether a token is revoked (the string is decoded, not verified: asking changes nothing). */
    isRevoked (token: TokenOrPayload): Promise<boolean>
    /** onRequest handler: a verified, non-revoked token or 401; sets request.user. */
    authenticate: onRequestHookHandler
    jwtRevoke: JwtRevokeDecorator
  }
  interface FastifyRequest {
    /** Revokes the token this request was authenticated with (logout). */
    revokeToken (): Promise<void>
  }
  interface FastifyContextConfig {
    /** false: the revocation hook does not run on this route. */
    jwtRevoke?: boolean
  }
}

/**
 * A function for @fastify/jwt's `trusted` option, for apps that call request.jwtVerify() themselves: it applies the
 * revocation check (once per request: a token the hook already passed is not looked up again) and rejects with
 * FST_JWT_REVOKED. It finds the plugin through request.server, so it can be given to @fastify/jwt before this plugin
 * is registered.
 */
export async function trusted (request: FastifyRequest, payload: unknown): Promise<boolean> {
  if (!passedCheck(request, payload)) await request.server.jwtRevoke.check(request, payload)
  return true
}

function prependHook (route: RouteOptions, hook: onRequestHookHandler): void {
  const current = route.onRequest
  const hooks = current === undefined ? [] : Array.isArray(current) ? current : [current]
  // A new array: the user's may be shared by several routes.
  route.onRequest = [hook, ...hooks]
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
    stats,
    failures: new BurstLog()
  }
  const jwt = fastify.jwt
  // @fastify/jwt always sets it (default 'user'); its types just do not say so.
  const userProperty = (jwt.options as unknown as { decoratorName: string }).decoratorName
  const fromFunction = keyFromFunction(jwt)
  const api = revocationApi(jwt, { ...options, store, log: fastify.log, stats, keyFromFunction: fromFunction })
  const findToken = tokenFinder(jwt)
  const hook = (fromFunction
    ? requestVerifyingHook(policy, findToken)
    : revocationHook(policy, findToken, (token) => jwt.verify(token))) as onRequestHookHandler

  const { authenticate, payloadOf } = authentication(policy, userProperty)

  fastify.decorateRequest(kChecked, null)
  fastify.decorateRequest('revokeToken', async function revokeToken (this: FastifyRequest): Promise<void> {
    await api.revoke(await payloadOf(this))
  })
  fastify.decorate('revoke', api.revoke)
  fastify.decorate('revokeSubject', api.revokeSubject)
  fastify.decorate('isRevoked', api.isRevoked)
  fastify.decorate('authenticate', authenticate)
  fastify.decorate('jwtRevoke', {
    store,
    check: (request: FastifyRequest, payload: unknown) => checkPayload(policy, request, payload),
    stats: () => store instanceof MirrorStore ? { ...stats, mirror: store.status() } : { ...stats }
  } satisfies JwtRevokeDecorator)

  fastify.addHook('onRoute', (route) => {
    if (route.config?.jwtRevoke !== false) prependHook(route, hook)
  })
}

export default fp(jwtRevoke, {
  fastify: '5.x',
  name: 'fastify-jwt-revoke',
  dependencies: ['@fastify/jwt']
})
