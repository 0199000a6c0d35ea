import createError from '@fastify/error'

// Every error this package throws, with stable codes: callers and tests match on `code`, never on the message.

export const RevokedError = createError('FST_JWT_REVOKED', 'Authorization token has been revoked', 401)

export const NoJtiError = createError('FST_JWT_REVOKE_NO_JTI', 'The token has no "jti" claim, so it cannot be revoked or checked', 401)

export const NoExpError = createError(
  'FST_JWT_REVOKE_NO_EXP',
  'The token has no "exp" claim; set the maxTokenLifetime option to bound how long its revocation is kept',
  400
)

export const InvalidClaimError = createError('FST_JWT_REVOKE_INVALID_CLAIM', 'The token claim "%s" is invalid: %s', 401)

export const LifetimeExceededError = createError(
  'FST_JWT_REVOKE_LIFETIME_EXCEEDED',
  'The token cannot be accepted under maxTokenLifetime: %s',
  401
)

export const ExpiredBeyondError = createError(
  'FST_JWT_REVOKE_EXPIRED',
  'The token expired %s s ago, longer than the app accepts an expired token (clockTolerance, acceptExpiredFor: %s s): its revocation may have lapsed, so it is refused',
  401
)

export const InvalidTokenError = createError('FST_JWT_REVOKE_INVALID_TOKEN', 'The token could not be verified: %s', 401)

export const StoreUnavailableError = createError(
  'FST_JWT_REVOKE_STORE_UNAVAILABLE',
  'The revocation store did not answer: %s',
  503
)

export const StoreFullError = createError(
  'FST_JWT_REVOKE_STORE_FULL',
  'The in-memory revocation store holds %s live entries, its maxEntries; use the Redis store or raise maxEntries',
  503
)

export const MirrorGrowingError = createError(
  'FST_JWT_REVOKE_MIRROR_GROWING',
  'The Redis mirror holds %s entries in a table %s%% full; it grows at a resync rather than stall the event loop rehashing it',
  503
)

export const NoVerifierError = createError(
  'FST_JWT_REVOKE_NO_VERIFIER',
  '%s needs the @fastify/jwt registered without a namespace (request.jwtVerify); with namespaces only, call request.<namespace>JwtVerify() in the route, which the plugin checks too',
  500
)

export const UnsupportedSetupError = createError('FST_JWT_REVOKE_UNSUPPORTED_SETUP', 'fastify-jwt-revoke cannot guard this setup: %s', 500)

// The application's own code passed something wrong (not a client): a programmer error, answered 500 if it reaches a
// reply, never a 401 that would blame the client.
export const InvalidArgumentError = createError('FST_JWT_REVOKE_INVALID_ARGUMENT', 'Invalid argument to %s: %s', 500, TypeError)

export const InvalidOptionError = createError('FST_JWT_REVOKE_INVALID_OPTION', 'Invalid option "%s": %s', 500)

/** Whether this package threw it (FST_JWT_REVOKED or FST_JWT_REVOKE_*): such errors pass through as they are. */
export function isOwnError (error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code
  return error instanceof Error && typeof code === 'string' && (code === 'FST_JWT_REVOKED' || code.startsWith('FST_JWT_REVOKE_'))
}

export const DecoratorExistsError = createError('FST_JWT_REVOKE_DECORATOR_EXISTS', 'The app already has a decorator "%s": %s', 500)
