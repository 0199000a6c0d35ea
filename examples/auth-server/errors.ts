import createError from '@fastify/error'

// The example's own errors. Every authentication failure is a 401 with a fixed message: the reply never says which
// part was wrong (unknown user or wrong password, expired or reused refresh token).

export const InvalidCredentialsError = createError('AUTH_INVALID_CREDENTIALS', 'Invalid username or password', 401)

export const WrongPasswordError = createError('AUTH_WRONG_PASSWORD', 'The current password is wrong', 403)

export const InvalidRefreshTokenError = createError('AUTH_INVALID_REFRESH_TOKEN', 'Invalid refresh token', 401)

export const WrongTokenTypeError = createError('AUTH_WRONG_TOKEN_TYPE', 'This route needs an access token', 401)

export const UsernameTakenError = createError('AUTH_USERNAME_TAKEN', 'This username is taken', 409)

export const SessionNotFoundError = createError('AUTH_SESSION_NOT_FOUND', 'No such session', 404)

export const RateLimitedError = createError('AUTH_RATE_LIMITED', 'Too many requests, retry in %s s', 429)

export const AdminOnlyError = createError('AUTH_ADMIN_ONLY', 'This route is for administrators', 403)

export const UserNotFoundError = createError('AUTH_USER_NOT_FOUND', 'No such user', 404)

export const CrossSiteRequestError = createError('AUTH_CROSS_SITE_REQUEST', 'Requests from another site are refused', 403)
