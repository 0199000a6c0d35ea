import { UsageError } from './errors.js'

/** What a command did: its exit code, and the same answer for a human (text) and for a script (--json). */
export interface Outcome {
  code: 0 | 1
  text: string
  json: Record<string, unknown>
  /** Said on stderr, in both modes: something the operator should look at although the command succeeded. */
  warning?: string | undefined
}

export interface Output { write (chunk: string): unknown }

export function isoTime (unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString()
}

/** 'jti=abc sub=user-1': the claims an entry is about, as an operator would grep for them. */
export function claimLabel (claims: { jti?: string | undefined, sub?: string | undefined }): string {
  return [['jti', claims.jti], ['sub', claims.sub]].filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${value}`).join(' ')
}

export function formatBytes (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

export function writeOutcome (io: { stdout: Output, stderr: Output }, json: boolean, outcome: Outcome): void {
  io.stdout.write(json ? JSON.stringify({ ok: true, ...outcome.json }) + '\n' : outcome.text + '\n')
  if (outcome.warning !== undefined) io.stderr.write(`warning: ${outcome.warning}\n`)
}

/**
 * The exit codes: 0 done (check: not revoked), 1 check: revoked, 2 usage error (nothing was written), 3 failed (Redis
 * unreachable, silent, or refusing: a check could not ask, a write is not known to have been made). A script can tell
 * "revoked" from "could not ask".
 */
export const EXIT = { done: 0, revoked: 1, usage: 2, failed: 3 } as const

/** Usage errors exit 2 with a pointer to help; anything else (Redis unreachable, a refused write) exits 3. */
export function writeError (io: { stdout: Output, stderr: Output }, json: boolean, error: unknown): 2 | 3 {
  const usage = error instanceof UsageError
  // Everything the CLI and ioredis throw is an Error.
  const message = (error as Error).message
  const code = usage ? EXIT.usage : EXIT.failed
  io.stderr.write(usage ? `error: ${message}\nRun 'fastify-jwt-revoke help' for usage.\n` : `failed: ${message}\n`)
  if (json) io.stdout.write(JSON.stringify({ ok: false, exitCode: code, error: message }) + '\n')
  return code
}
