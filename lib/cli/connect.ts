import { Redis } from 'ioredis'

// An operator at a shell wants an answer in seconds: no reconnect loop, no command queued behind a dead connection.
const CONNECT_TIMEOUT_MS = 3000
const COMMAND_TIMEOUT_MS = 10_000

// A QUIT that fails leaves nothing to do but drop the connection.
function ignore (): void {}

/** The URL without its password, for messages that may end up in a terminal log. */
export function safeUrl (url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@')
}

/** Connects, runs `use`, and always closes the connection, whether `use` succeeded or not. */
export async function withRedis<T> (url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null
  })
  // Errors reach the operator through the command that failed; a failed connect() only says "Connection is closed",
  // so the socket's own error (ECONNREFUSED, ETIMEDOUT, ENOTFOUND) is kept to explain it.
  let reason = 'no answer'
  client.on('error', (error: Error) => { reason = error.message })
  try {
    await client.connect().catch(() => {
      throw new Error(`cannot reach Redis at ${safeUrl(url)}: ${reason}`)
    })
    return await use(client)
  } finally {
    if (client.status === 'ready') await client.quit().then(ignore, ignore)
    client.disconnect()
  }
}
