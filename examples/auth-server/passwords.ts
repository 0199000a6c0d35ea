import { randomBytes } from 'node:crypto'
import argon2 from 'argon2'

/** argon2id cost parameters. The defaults are argon2's own (64 MiB, 3 passes); tests pass cheaper ones. */
export interface HashingOptions {
  memoryCost?: number
  timeCost?: number
  parallelism?: number
}

/**
 * Hashes and checks passwords with argon2id. `verify` also takes the case of a user that does not exist: it then
 * checks the password against a dummy hash made with the same parameters, so an unknown username costs as much time
 * as a wrong password and the response time does not tell which usernames exist.
 */
export class Passwords {
  readonly #options: HashingOptions & { type: typeof argon2.argon2id }
  #dummy: Promise<string> | undefined

  constructor (options: HashingOptions = {}) {
    this.#options = { ...options, type: argon2.argon2id }
  }

  hash (password: string): Promise<string> {
    return argon2.hash(password, this.#options)
  }

  /** True when `hash` exists and `password` matches it; with no hash, spends the same work and answers false. */
  async verify (hash: string | undefined, password: string): Promise<boolean> {
    if (hash !== undefined) return await argon2.verify(hash, password)
    this.#dummy ??= this.hash(randomBytes(32).toString('base64url'))
    await argon2.verify(await this.#dummy, password)
    return false
  }
}
