import type { Auth } from '../auth.js'
import type { PairDelivery } from '../delivery.js'
import type { Passwords } from '../passwords.js'
import type { RateLimits } from '../rate-limits.js'
import type { UserStore } from '../users/store.js'

/** What every route plugin of the example is registered with. */
export interface RouteDeps {
  auth: Auth
  users: UserStore
  passwords: Passwords
  /** Undefined when the limits are off. */
  limits: RateLimits | undefined
  delivery: PairDelivery
}

/** OpenAPI security requirement of the routes that take a Bearer access token. */
export const bearerAuth = [{ bearer: [] }]
