import { isOwnError, StoreUnavailableError } from './errors.js'

/**
 * Settles with the store's answer, or rejects with FST_JWT_REVOKE_STORE_UNAVAILABLE after `ms`: a store that hangs (a
 * paused Redis, a client queueing commands while it reconnects) must never hang the request with it.
 */
export function withDeadline<T> (answer: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreUnavailableError(`no answer within ${ms} ms`)), ms)
    answer.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (error: unknown) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** The message of whatever was thrown (an Error's message, or the value itself as text): for logs and error texts. */
export function errorMessage (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Our own errors (a full memory store, a timeout) pass as they are; anything a store threw becomes STORE_UNAVAILABLE. */
export function asStoreError (error: unknown): Error {
  return isOwnError(error) ? error : new StoreUnavailableError(errorMessage(error))
}
