import { execFile } from 'node:child_process'
import { runCli } from '../../lib/cli/run.js'
import { childEnv } from './child-env.js'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in-process (covered by tap), capturing what it writes. */
export async function cli (argv: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: { write: (chunk: string) => { stdout += chunk } },
    stderr: { write: (chunk: string) => { stderr += chunk } },
    env
  })
  return { code, stdout, stderr }
}

/** Runs the real entry file as an operator would: a child process, its exit code and its output streams. */
export function cliChild (argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    // tsx as a loader of this node, not its CLI, which would start a second node process for every run.
    execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...argv], { env: childEnv(env), timeout: 30_000 }, (error, stdout, stderr) => {
      // execFile reports a non-zero exit as an error carrying the code; that exit code is what is under test.
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr })
    })
  })
}

/** An unsigned token with these claims: the CLI decodes tokens without verifying them. */
export function unsignedToken (payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(payload)}.signature`
}
