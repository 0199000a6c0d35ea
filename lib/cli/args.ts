import { parseArgs } from 'node:util'
import { readClaims, type RevocableClaims } from '../claims.js'
import { resolveOptions } from '../options.js'
import type { TtlSettings } from '../ttl.js'
import { decodeToken } from './decode.js'
import { asUsage, UsageError } from './errors.js'

// Every flag of every command, as strings: numbers are parsed here with messages that name the flag.
const OPTIONS = {
  'redis-url': { type: 'string' },
  'key-prefix': { type: 'string' },
  'clock-skew': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  jti: { type: 'string' },
  sub: { type: 'string' },
  sid: { type: 'string' },
  exp: { type: 'string' },
  iat: { type: 'string' },
  before: { type: 'string' },
  'max-token-lifetime': { type: 'string' }
} as const

type Flag = keyof typeof OPTIONS
type Values = { [flag in Flag]?: (typeof OPTIONS)[flag]['type'] extends 'boolean' ? boolean : string }

const COMMON: Flag[] = ['redis-url', 'key-prefix', 'clock-skew', 'json', 'help']
const COMMAND_FLAGS = {
  revoke: ['jti', 'exp', 'sub', 'max-token-lifetime'],
  'revoke-subject': ['before', 'max-token-lifetime'],
  'revoke-session': ['before', 'max-token-lifetime'],
  check: ['jti', 'sub', 'iat', 'sid'],
  stats: []
} as const satisfies Record<string, Flag[]>

type StoreCommand = keyof typeof COMMAND_FLAGS

/** Where the entries are and how long they live: the plugin's own option defaults and validation. */
export interface Target extends TtlSettings {
  redisUrl: string
  keyPrefix: string
}

/** The claims a revoke or check is about, and whether they came from a decoded (unverified) token. */
export interface TokenRef {
  claims: RevocableClaims
  decoded: boolean
}

export type Command =
  | { name: 'help' }
  | { name: 'revoke', target: Target, token: TokenRef }
  | { name: 'check', target: Target, token: TokenRef }
  | { name: 'revoke-subject', target: Target, sub: string, before: number | undefined }
  | { name: 'revoke-session', target: Target, sid: string, before: number | undefined }
  | { name: 'stats', target: Target }

// resolveOptions names the option it refuses; only these three can be refused, as the CLI passes no other.
const FLAG_OF_OPTION: Record<string, string> = { keyPrefix: '--key-prefix', clockSkew: '--clock-skew', maxTokenLifetime: '--max-token-lifetime' }

/** Unix seconds or a number of seconds: digits only, so '', '1e3' or '-5' are refused rather than guessed at. */
function seconds (flag: Flag, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} takes a whole number of seconds, not '${value}'`)
  return Number(value)
}

function target (values: Values, env: Record<string, string | undefined>): Target {
  const redisUrl = values['redis-url'] ?? env.REDIS_URL
  if (redisUrl === undefined || redisUrl === '') throw new UsageError('no Redis to talk to: pass --redis-url or set REDIS_URL')
  if (!/^rediss?:\/\//.test(redisUrl)) throw new UsageError('--redis-url (or REDIS_URL) must start with redis:// or rediss://')
  // The plugin's own validation and defaults (prefix 'jwt-revoke:', clock skew 60 s, cutoff lifetime 30 days).
  const options = asUsage(() => resolveOptions({
    store: 'memory',
    keyPrefix: values['key-prefix'],
    clockSkew: seconds('clock-skew', values['clock-skew']),
    maxTokenLifetime: seconds('max-token-lifetime', values['max-token-lifetime'])
  }, false), (message) => message.replace(/option "(\w+)"/, (_, name: string) => FLAG_OF_OPTION[name] as string))
  const { keyPrefix, clockSkew, maxTokenLifetime, cutoffLifetime } = options
  return { redisUrl, keyPrefix, clockSkew, maxTokenLifetime, cutoffLifetime }
}

/** A token (decoded, not verified) or the flags that stand for one; either way read by the plugin's claim checks. */
function tokenOf (name: 'revoke' | 'check', token: string | undefined, values: Values): TokenRef {
  const flags = name === 'revoke'
    ? { jti: values.jti, sub: values.sub, exp: seconds('exp', values.exp) }
    : { jti: values.jti, sub: values.sub, iat: seconds('iat', values.iat), sid: values.sid }
  const given = Object.entries(flags).filter(([, value]) => value !== undefined).map(([flag]) => `--${flag}`)
  if (token !== undefined && given.length > 0) throw new UsageError(`${name}: give a token or ${given.join(', ')}, not both`)
  if (token === undefined && name === 'revoke' && (flags.jti === undefined || values.exp === undefined)) {
    throw new UsageError('revoke needs a token, or --jti and --exp (the token\'s expiry, Unix seconds)')
  }
  if (token === undefined && flags.jti === undefined && flags.sub === undefined && values.sid === undefined) {
    throw new UsageError('check needs a token, or --jti and/or --sub (or --sid)')
  }
  const payload = token === undefined ? flags : decodeToken(token)
  const claims = asUsage(() => readClaims(payload, name === 'revoke'))
  if (claims.jti === undefined && claims.sub === undefined && claims.sid === undefined) throw new UsageError('the token has neither jti nor sub nor sid: no revocation can apply to it')
  return { claims, decoded: token !== undefined }
}

function onePositional (name: StoreCommand, positionals: string[], required: boolean, what: string): string | undefined {
  if (positionals.length > 1 || (required && positionals.length === 0)) {
    throw new UsageError(`${name} takes ${required ? 'one' : 'at most one'} ${what}, got ${positionals.length}`)
  }
  return positionals[0]
}

function isStoreCommand (name: string): name is StoreCommand {
  return Object.hasOwn(COMMAND_FLAGS, name)
}

/** Parses argv into a command; throws UsageError (exit 2) for anything it cannot make sense of. */
export function parseCommand (argv: string[], env: Record<string, string | undefined>): Command {
  const parsed = asUsage(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }))
  const values: Values = parsed.values
  const [name, ...rest] = parsed.positionals
  if (values.help === true || name === 'help') return { name: 'help' }
  if (name === undefined) throw new UsageError('no command given')
  if (!isStoreCommand(name)) throw new UsageError(`unknown command '${name}'`)
  const allowed: readonly Flag[] = [...COMMON, ...COMMAND_FLAGS[name]]
  const stray = (Object.keys(values) as Flag[]).find((flag) => !allowed.includes(flag))
  if (stray !== undefined) throw new UsageError(`${name} does not take --${stray}`)
  switch (name) {
    case 'revoke':
    case 'check': {
      const token = tokenOf(name, onePositional(name, rest, false, 'token'), values)
      return { name, target: target(values, env), token }
    }
    case 'revoke-subject': {
      const sub = onePositional(name, rest, true, 'subject') as string
      if (sub === '') throw new UsageError('revoke-subject needs a non-empty subject')
      return { name, target: target(values, env), sub, before: seconds('before', values.before) }
    }
    case 'revoke-session': {
      const sid = onePositional(name, rest, true, 'session id') as string
      if (sid === '') throw new UsageError('revoke-session needs a non-empty session id')
      return { name, target: target(values, env), sid, before: seconds('before', values.before) }
    }
    case 'stats':
      if (rest.length > 0) throw new UsageError(`stats takes no arguments, got ${rest.join(' ')}`)
      return { name, target: target(values, env) }
  }
}
