import { parseCommand, type Command } from './args.js'
import { check, revoke, revokeSession, revokeSubject } from './commands.js'
import { HELP } from './help.js'
import { writeError, writeOutcome, type Outcome, type Output } from './output.js'
import { stats } from './stats.js'
import { packageVersion } from './version.js'

export interface CliIo {
  stdout: Output
  stderr: Output
  env: Record<string, string | undefined>
}

function execute (command: Exclude<Command, { name: 'help' | 'version' }>): Promise<Outcome> {
  switch (command.name) {
    case 'revoke': return revoke(command.target, command.token, command.force)
    case 'revoke-subject': return revokeSubject(command.target, command.sub, command.before, command.force)
    case 'revoke-session': return revokeSession(command.target, command.sid, command.before, command.force)
    case 'check': return check(command.target, command.token)
    case 'stats': return stats(command.target)
  }
}

/**
 * The whole CLI, in-process: parses argv, runs the command against Redis, writes the answer and returns the exit code
 * (EXIT in output.ts: 0 done or not revoked, 1 revoked, 2 usage error, 3 failed). It never touches process: bin.ts does.
 */
export async function runCli (argv: string[], io: CliIo): Promise<number> {
  // Known before parsing, so that a usage error is answered in JSON too.
  const json = argv.includes('--json')
  try {
    const command = parseCommand(argv, io.env)
    if (command.name === 'help' || command.name === 'version') {
      io.stdout.write(command.name === 'help' ? HELP : `${packageVersion()}\n`)
      return 0
    }
    const outcome = await execute(command)
    writeOutcome(io, json, outcome)
    return outcome.code
  } catch (error) {
    return writeError(io, json, error)
  }
}
