/** The operator's input is wrong (exit code 2): nothing was sent to Redis. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Runs a check from the package (claims, options) and turns what it throws into a usage error. */
export function asUsage<T> (read: () => T, rename: (message: string) => string = (message) => message): T {
  try {
    return read()
  } catch (error) {
    throw new UsageError(rename((error as Error).message))
  }
}
