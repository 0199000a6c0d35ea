import type { Auth } from '../auth.js'
import type { PairDelivery } from '../delivery.js'
import type { Passwords } from '../passwords.js'
import type { RateLimits } from '../rate-limits.js'
import type { UserStore } from '../users.js'

/** What every route plugin of the example is registered with. */
export interface RouteDeps {
  auth: Auth
  users: UserStore
  passwords: Passwords
  limits: RateLimits
  delivery: PairDelivery
}

/** OpenAPI security requirement of the routes that take a Bearer access token. */
export const bearerAuth = [{ bearer: [] }]
