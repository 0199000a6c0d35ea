import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, ValueErrorType, type ValueError } from '@sinclair/typebox/compiler'
import type { DecoratorNames } from './decorators.js'
import { InvalidOptionError } from './errors.js'
import type { BorrowedClient } from './stores/connection.js'
import type { RevocationStore } from './stores/store.js'

const PositiveSeconds = Type.Integer({ minimum: 1 })
const DecoratorName = Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Literal(false)]))

/** The plugin's options, as validated at register time. */
export const OptionsSchema = Type.Object({
  /** 'memory', 'redis', or an object implementing RevocationStore. Default: 'redis' when app.redis exists, else 'memory'. */
  store: Type.Optional(Type.Union([
    Type.Literal('memory'), Type.Literal('redis'), Type.Unsafe<RevocationStore>(Type.Object({}, { title: 'a store object' }))
  ])),
  /**
   * For the Redis store: an ioredis client or Cluster (ioredis 5 or 6) whose options the plugin's own connection copies,
   * or a redis:// URL to connect to.
   */
  redis: Type.Optional(Type.Union([
    Type.String({ pattern: '^rediss?://', title: 'a redis:// or rediss:// URL' }),
    Type.Unsafe<BorrowedClient>(Type.Object({}, { title: 'an ioredis client or Cluster' }))
  ])),
  /** Prefix of every Redis key the plugin writes. */
  keyPrefix: Type.Optional(Type.String({ maxLength: 64, pattern: '^[^{}\\s]*$' })),
  /** Seconds a revocation is kept past the token's exp, for servers whose clocks run behind. */
  clockSkew: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
  /**
   * Seconds past exp a route may still accept a token through a per-call `request.jwtVerify({ ignoreExpiration: true })`
   * (or a per-call clockTolerance wider than the registration's): revocations are kept that much longer, and a token
   * accepted past it is refused with FST_JWT_REVOKE_EXPIRED, since its revocation may have lapsed. Default 0.
   */
  acceptExpiredFor: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 365 * 24 * 3600 })),
  /** Longest lifetime (seconds) of any token the app issues: bounds subject cutoffs and tokens without exp. */
  maxTokenLifetime: Type.Optional(PositiveSeconds),
  /** 'deny' answers 503 when the store cannot answer (fail closed); 'allow' lets the request through and logs. */
  onStoreError: Type.Optional(Type.Union([Type.Literal('deny'), Type.Literal('allow')])),
  /** Milliseconds to wait for the store before onStoreError applies. */
  storeTimeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 60000 })),
  /** Refuse verified tokens that carry no jti (they could never be revoked one by one). */
  requireJti: Type.Optional(Type.Boolean()),
  /** Upper bound of live entries in the memory store (and in each instance's mirror). */
  maxEntries: Type.Optional(Type.Integer({ minimum: 1 })),
  /** 'lookup': one store call per check. 'mirror' (Redis only): an in-process copy kept current by pub/sub. */
  mode: Type.Optional(Type.Union([Type.Literal('lookup'), Type.Literal('mirror')])),
  /** Redis only: revoke() and revokeSubject() resolve once WAIT confirms `replicas` replicas hold the write within `timeout` ms. */
  durability: Type.Optional(Type.Object({
    replicas: Type.Integer({ minimum: 1, maximum: 100 }),
    timeout: Type.Integer({ minimum: 1, maximum: 60000 })
  }, { additionalProperties: false })),
  /** Another name for a decorator of the plugin, or false to leave it out (for an app that has its own authenticate). */
  decorators: Type.Optional(Type.Object({
    authenticate: DecoratorName,
    revoke: DecoratorName,
    revokeSubject: DecoratorName,
    revokeSession: DecoratorName,
    isRevoked: DecoratorName,
    revokeToken: DecoratorName
  }, { additionalProperties: false }))
}, { additionalProperties: false })

export type JwtRevokeOptions = Static<typeof OptionsSchema>

/** Thirty days: how long a subject cutoff lives when maxTokenLifetime is not set. */
const DEFAULT_CUTOFF_LIFETIME = 30 * 24 * 3600

export interface ResolvedOptions {
  store: 'memory' | 'redis' | RevocationStore
  redis: string | BorrowedClient | undefined
  /** Whether the store was left to its default (then 'memory' only because app.redis did not exist at register). */
  storeDefaulted: boolean
  keyPrefix: string
  clockSkew: number
  acceptExpiredFor: number
  /** Only set when the user set it: tokens without exp are refused otherwise. */
  maxTokenLifetime: number | undefined
  cutoffLifetime: number
  onStoreError: 'deny' | 'allow'
  storeTimeout: number
  requireJti: boolean
  maxEntries: number
  mode: 'lookup' | 'mirror'
  durability: Durability | undefined
  decorators: DecoratorNames
}

/** How many replicas must confirm a revocation, and how long to wait for them (ms). */
export interface Durability {
  replicas: number
  timeout: number
}

const checkOptions = TypeCompiler.Compile(OptionsSchema)

/**
 * TypeBox's message, made to say what to write instead, as TypeScript would: an unknown option names the option
 * meant (`maxTokenLifeTime` → `maxTokenLifetime`), a value outside a union lists the values allowed.
 */
function explain (error: ValueError): string {
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const names = Object.keys(error.schema.properties as object)
    const typed = optionName(error.path).split('.').at(-1)!
    const meant = closest(typed, names)
    return `unknown option${meant === undefined ? '' : `; did you mean "${meant}"?`} (options: ${names.join(', ')})`
  }
  if (error.type === ValueErrorType.Union) {
    const allowed = (error.schema.anyOf as TSchema[]).map((member) => 'const' in member ? JSON.stringify(member.const) : String(member.title))
    const list = `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)!}`
    const meant = typeof error.value === 'string' ? closest(error.value, allowed.filter((value) => value.startsWith('"')).map((value) => JSON.parse(value) as string)) : undefined
    return `must be ${list}${meant === undefined ? '' : `; did you mean "${meant}"?`} (got ${describeValue(error.value)})`
  }
  return error.message
}

function describeValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  return value === null ? 'null' : typeof value
}

/** The name a typo most likely meant: the same but for case, or at most two edits away (a third of its length). */
function closest (typed: string, names: readonly string[]): string | undefined {
  const lower = typed.toLowerCase()
  const distances = names.map((name) => editDistance(lower, name.toLowerCase()))
  const least = Math.min(...distances)
  return least <= Math.min(2, Math.floor(typed.length / 3)) ? names[distances.indexOf(least)] : undefined
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

// The error's path is a JSON pointer: '/' separates the names, and '~1' stands for '/', '~0' for '~'.
function optionName (path: string): string {
  return path.split('/').slice(1).map((name) => name.replaceAll('~1', '/').replaceAll('~0', '~')).join('.') || 'options'
}

const STORE_METHODS = ['isRevoked', 'revoke', 'revokeSubject'] as const
// What any ioredis client has; the plugin itself reads only its options (see ownConnection).
const REDIS_METHODS = ['mget', 'exists', 'set', 'eval', 'duplicate'] as const

// The schema has already made sure the value is an object.
function lacksMethods (value: object, methods: readonly string[]): string | undefined {
  const missing = methods.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function')
  return missing.length > 0 ? `is missing the method(s) ${missing.join(', ')}` : undefined
}

/** Validates user options against the schema and fills in defaults; throws FST_JWT_REVOKE_INVALID_OPTION naming the option. */
export function resolveOptions (options: unknown, hasAppRedis: boolean): ResolvedOptions {
  // A misspelled name first: it also explains the "required property" missing beside it.
  const errors = [...checkOptions.Errors(options)]
  const first = errors.find((error) => error.type === ValueErrorType.ObjectAdditionalProperties) ?? errors[0]
  if (first !== undefined) {
    throw new InvalidOptionError(optionName(first.path), explain(first))
  }
  const valid = options as JwtRevokeOptions
  const store = valid.store ?? (hasAppRedis || valid.redis !== undefined ? 'redis' : 'memory')
  if (typeof store === 'object') {
    const problem = lacksMethods(store, STORE_METHODS)
    if (problem !== undefined) throw new InvalidOptionError('store', `a custom store ${problem}`)
  }
  if (valid.redis !== undefined && typeof valid.redis !== 'string') {
    const problem = lacksMethods(valid.redis, REDIS_METHODS)
    if (problem !== undefined) throw new InvalidOptionError('redis', `an ioredis client ${problem}`)
  }
  if (store === 'redis' && valid.redis === undefined && !hasAppRedis) {
    throw new InvalidOptionError('store', "'redis' needs the redis option (client or URL) or @fastify/redis registered first")
  }
  if (valid.mode === 'mirror' && store !== 'redis') throw new InvalidOptionError('mode', "'mirror' keeps a copy of the Redis store: it needs store 'redis'")
  const storeTimeout = valid.storeTimeout ?? 200
  if (valid.durability !== undefined) checkDurability(valid.durability, store, storeTimeout)
  return {
    store,
    redis: valid.redis,
    keyPrefix: valid.keyPrefix ?? 'jwt-revoke:',
    clockSkew: valid.clockSkew ?? 60,
    acceptExpiredFor: valid.acceptExpiredFor ?? 0,
    maxTokenLifetime: valid.maxTokenLifetime,
    cutoffLifetime: valid.maxTokenLifetime ?? DEFAULT_CUTOFF_LIFETIME,
    onStoreError: valid.onStoreError ?? 'deny',
    storeDefaulted: valid.store === undefined,
    storeTimeout,
    requireJti: valid.requireJti ?? true,
    maxEntries: valid.maxEntries ?? 1_000_000,
    mode: valid.mode ?? 'lookup',
    durability: valid.durability,
    decorators: valid.decorators ?? {}
  }
}

function checkDurability (durability: Durability, store: ResolvedOptions['store'], storeTimeout: number): void {
  if (store !== 'redis') throw new InvalidOptionError('durability', "WAIT for replicas needs store 'redis'")
  // storeTimeout bounds the whole write: a longer WAIT could never be waited for.
  if (durability.timeout >= storeTimeout) {
    throw new InvalidOptionError('durability.timeout', `it must be below storeTimeout (${storeTimeout} ms), which bounds the whole write`)
  }
}
