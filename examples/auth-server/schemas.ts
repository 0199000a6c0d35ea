import { STATUS_CODES } from 'node:http'
import type { FastifyError } from 'fastify'
import { CloneType, Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'
import { errors } from '../../index.js'
import { AdminOnlyError, InvalidCredentialsError, RateLimitedError } from './errors.js'

// Every body and response is declared here, so Fastify validates input (a 400 naming the field) and the OpenAPI
// document is generated from the same schemas. Every string has a maxLength: oversized input is a 400, never work.
// Bodies take no property they do not declare (`strict`): a `role` sent to /auth/register is a 400, not silently
// dropped (app.ts turns off ajv's removeAdditional, which would drop it and answer 201).

/** An object schema that refuses undeclared properties. */
function strict<T extends TProperties> (properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: false })
}

/** A JWT string: ours are well under 1 KB, 4 KB leaves room without letting anyone post megabytes. */
const Jwt = Type.String({ minLength: 1, maxLength: 4096 })

// argon2 hashes any length, but a megabyte password would be a cheap way to burn CPU.
const PASSWORD_MAX = 256

/** Registration enforces the name and password policy. */
export const Registration = strict({
  username: Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
  password: Type.String({ minLength: 8, maxLength: PASSWORD_MAX })
})

/** Login does not: a password that breaks today's policy is just a wrong password (401), never a hint (400). */
export const Credentials = strict({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX })
})

export const RefreshBody = strict({ refreshToken: Jwt })

/** The refresh route and logout when the refresh token may come from the cookie instead. */
export const OptionalRefreshBody = strict({ refreshToken: Type.Optional(Jwt) })

export const PasswordChange = strict({
  currentPassword: Type.String({ minLength: 1, maxLength: PASSWORD_MAX }),
  newPassword: Type.String({ minLength: 8, maxLength: PASSWORD_MAX })
})

/**
 * RFC 7009 section 2.1: `token` is required, `token_type_hint` optional (and ignored when it is not one we know). Not
 * strict: OAuth lets clients send extension parameters, which a server ignores (RFC 6749 section 3.2).
 */
export const RevocationRequest = Type.Object({
  token: Type.String({ maxLength: 4096 }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64 }))
})

export const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const User = Type.Object({ id: Type.String(), username: Type.String() })

export const TokenPair = Type.Object({
  accessToken: Type.String(),
  // Absent when the refresh token travels in the httpOnly cookie instead.
  refreshToken: Type.Optional(Type.String()),
  tokenType: Type.Literal('Bearer'),
  /** Seconds the access token lives. */
  expiresIn: Type.Integer()
})

/** A session as an admin sees it. */
export const SessionSummary = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastRefreshedAt: Type.String({ format: 'date-time' }),
  userAgent: Type.String()
})

/** A session as its own user sees it. */
export const Session = Type.Composite([SessionSummary, Type.Object({
  /** The session the request's own access token belongs to. */
  current: Type.Boolean()
})])

export const SessionList = Type.Array(Session)

export const SessionSummaryList = Type.Array(SessionSummary)

/** Any name a user may have registered with: the Registration policy without its pattern, which could change. */
export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) })

export const ErrorReply = Type.Object({
  statusCode: Type.Integer(),
  code: Type.Optional(Type.String()),
  error: Type.String(),
  message: Type.String()
})

/** RFC 6749 section 5.2 error body, which RFC 7009 reuses. */
export const OAuthError = Type.Object({
  error: Type.String(),
  error_description: Type.Optional(Type.String())
})

/** A response schema with the description the OpenAPI document gives that response, and its example replies. */
export function described<T extends TSchema> (description: string, schema: T, examples: Array<Static<T>> = []): T {
  return CloneType(schema, examples.length === 0 ? { description } : { description, examples })
}

/** The reply Fastify's error handler sends for this error: what a client really receives. */
export function errorReply (error: FastifyError): Static<typeof ErrorReply> {
  const statusCode = error.statusCode ?? 500
  return { statusCode, code: error.code, error: STATUS_CODES[statusCode] ?? 'Error', message: error.message }
}

/** An error response, described, with the replies of the given errors as its examples. */
export function errorResponse (description: string, ...examples: FastifyError[]): typeof ErrorReply {
  return described(description, ErrorReply, examples.map(errorReply))
}

/** What Fastify answers to a body that does not match its schema. */
const validationFailed = {
  statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: 'body/password must NOT have fewer than 8 characters'
}

/** What @fastify/jwt answers to an Authorization header that is not `Bearer <token>`. */
const malformedAuthorization = {
  statusCode: 400, code: 'FST_JWT_BAD_REQUEST', error: 'Bad Request', message: 'Format is Authorization: Bearer [token]'
}

/** A 204 answer, described. */
export function noContent (description: string): TSchema {
  return Type.Null({ description })
}

/** The 400 of a public route that takes a body: Fastify's validation error, naming the field. */
export const badRequest = {
  400: described('The body or a path parameter does not match the schema (the message names the field)', ErrorReply, [validationFailed])
}

/** The 401 every authenticated route can answer. */
const unauthorized = {
  401: errorResponse('No valid access token: missing, invalid, expired, revoked, or a refresh token', new errors.RevokedError())
}

/** The 400 and 401 of an authenticated route without body or parameters: a malformed Authorization header, no token. */
export const authenticated = {
  400: described('The Authorization header is not `Bearer <token>`', ErrorReply, [malformedAuthorization]),
  ...unauthorized
}

/** The same for an authenticated route that also takes a body or path parameters. */
export const authenticatedWithInput = {
  400: described('The body or a path parameter does not match the schema (the message names the field), or the ' +
    'Authorization header is not `Bearer <token>`', ErrorReply, [validationFailed, malformedAuthorization]),
  ...unauthorized
}

/** The 429 of a rate-limited route, when the limits are on. */
export function tooManyRequests (limited: boolean): { 429?: TSchema } {
  return limited ? { 429: errorResponse('Too many requests: retry after Retry-After seconds', new RateLimitedError('42')) } : {}
}

/** The 403 of the admin routes. */
export const notAdmin = { 403: errorResponse('The access token is valid, but not an administrator\'s', new AdminOnlyError()) }

/** The 401 of a wrong login. */
export const invalidCredentials = {
  401: errorResponse('Invalid username or password (the same answer for both)', new InvalidCredentialsError())
}
