import { Redis } from 'ioredis'

// An operator at a shell wants an answer in seconds: no reconnect loop, no command queued behind a dead connection.
// Every command the CLI sends is short (GET, SET, one script, one SCAN page, a batch of MEMORY USAGE), so a reply
// that takes longer than COMMAND_TIMEOUT_MS is never coming: a frozen Redis, or a connection gone silent.
const CONNECT_TIMEOUT_MS = 3000
const COMMAND_TIMEOUT_MS = 5000

/** ioredis's words for a command left unanswered past commandTimeout, handshake included. */
const TIMED_OUT = 'Command timed out'
const SILENT = `connected, but no answer within ${COMMAND_TIMEOUT_MS / 1000} s (the connection is open but silent)`

/** What went wrong, in the operator's words. */
function explain (error: Error): Error {
  if (error.message === TIMED_OUT) error.message = SILENT
  return error
}

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
  client.on('error', (error: Error) => { reason = explain(error).message })
  try {
    await client.connect().catch(() => {
      throw new Error(`cannot reach Redis at ${safeUrl(url)}: ${reason}`)
    })
    const result = await use(client).catch((error: Error) => { throw explain(error) })
    // A clean goodbye only after an answer: QUIT would wait behind a command that was never answered.
    await client.quit().then(ignore, ignore)
    return result
  } finally {
    client.disconnect()
  }
}
