import { parseArgs } from 'node:util'
import { readClaims } from '../claims.js'
import { resolveOptions } from '../options.js'
import type { RevocationClaims } from '../stores/store.js'
import { cutoffProblem, unixSecondsProblem, type TtlSettings } from '../ttl.js'
import { safeUrl } from './connect.js'
import { decodeToken } from './decode.js'
import { asUsage, UsageError } from './errors.js'

// Every flag of every command, as strings: numbers are parsed here with messages that name the flag.
const OPTIONS = {
  'redis-url': { type: 'string' },
  'key-prefix': { type: 'string' },
  'clock-skew': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  force: { type: 'boolean' },
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

const COMMON: Flag[] = ['redis-url', 'key-prefix', 'clock-skew', 'json', 'help', 'version']
const COMMAND_FLAGS = {
  revoke: ['jti', 'exp', 'sub', 'max-token-lifetime', 'force'],
  'revoke-subject': ['before', 'max-token-lifetime', 'force'],
  'revoke-session': ['before', 'max-token-lifetime', 'force'],
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
  claims: RevocationClaims
  decoded: boolean
}

export type Command =
  | { name: 'help' }
  | { name: 'version' }
  | { name: 'revoke', target: Target, token: TokenRef, force: boolean }
  | { name: 'check', target: Target, token: TokenRef }
  | { name: 'revoke-subject', target: Target, sub: string, before: number | undefined, force: boolean }
  | { name: 'revoke-session', target: Target, sid: string, before: number | undefined, force: boolean }
  | { name: 'stats', target: Target }

// resolveOptions names the option it refuses; only these three can be refused, as the CLI passes no other.
const FLAG_OF_OPTION: Record<string, string> = { keyPrefix: '--key-prefix', clockSkew: '--clock-skew', maxTokenLifetime: '--max-token-lifetime' }

/** Unix seconds or a number of seconds: digits only, so '', '1e3' or '-5' are refused rather than guessed at. */
function seconds (flag: Flag, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} takes a whole number of seconds, not '${value}'`)
  return Number(value)
}

/** An instant in Unix seconds, refused as the API refuses it (milliseconds by mistake). */
function instant (flag: 'exp' | 'iat', value: string | undefined): number | undefined {
  const parsed = seconds(flag, value)
  const problem = parsed === undefined ? undefined : unixSecondsProblem(parsed)
  if (problem !== undefined) throw new UsageError(`--${flag} ${problem}`)
  return parsed
}

/** A revoke-subject or revoke-session --before, refused as the API refuses it: in milliseconds, or beyond the clock skew. */
function cutoff (value: string | undefined, clockSkew: number): number | undefined {
  const before = seconds('before', value)
  const problem = before === undefined ? undefined : cutoffProblem(before, clockSkew)
  if (problem !== undefined) throw new UsageError(`--before ${problem}`)
  return before
}

/** The id, target, --before and --force of revoke-subject or revoke-session, refused as the API refuses them. */
function cutoffArguments (name: 'revoke-subject' | 'revoke-session', label: string, rest: string[], values: Values,
  env: Record<string, string | undefined>): { id: string, target: Target, before: number | undefined, force: boolean } {
  const id = onePositional(name, rest, true, label) as string
  if (id === '') throw new UsageError(`${name} needs a non-empty ${label}`)
  const where = target(values, env)
  return { id, target: where, before: cutoff(values.before, where.clockSkew), force: values.force === true }
}

/** A redis:// or rediss:// URL that parses, checked before anything is sent. */
function redisUrlOf (values: Values, env: Record<string, string | undefined>): string {
  const redisUrl = values['redis-url'] ?? env.REDIS_URL
  if (redisUrl === undefined || redisUrl === '') throw new UsageError('no Redis to talk to: pass --redis-url or set REDIS_URL')
  let url: URL | undefined
  try {
    url = new URL(redisUrl)
  } catch {}
  if (url === undefined || !/^rediss?:$/.test(url.protocol) || url.hostname === '' || !/^\d*$/.test(url.pathname.slice(1))) {
    throw new UsageError(`--redis-url (or REDIS_URL) is not a redis:// or rediss:// URL with a host (redis://host:port/db): '${safeUrl(redisUrl)}'`)
  }
  return redisUrl
}

function target (values: Values, env: Record<string, string | undefined>): Target {
  const redisUrl = redisUrlOf(values, env)
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
    ? { jti: values.jti, sub: values.sub, exp: instant('exp', values.exp) }
    : { jti: values.jti, sub: values.sub, iat: instant('iat', values.iat), sid: values.sid }
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
  if (values.version === true) return { name: 'version' }
  if (name === undefined) throw new UsageError('no command given')
  if (!isStoreCommand(name)) throw new UsageError(`unknown command '${name}'`)
  const allowed: readonly Flag[] = [...COMMON, ...COMMAND_FLAGS[name]]
  const stray = (Object.keys(values) as Flag[]).find((flag) => !allowed.includes(flag))
  if (stray !== undefined) throw new UsageError(`${name} does not take --${stray}`)
  switch (name) {
    case 'revoke':
    case 'check': {
      const token = tokenOf(name, onePositional(name, rest, false, 'token'), values)
      const where = target(values, env)
      return name === 'revoke' ? { name, target: where, token, force: values.force === true } : { name, target: where, token }
    }
    case 'revoke-subject': {
      const { id, ...cut } = cutoffArguments(name, 'subject', rest, values, env)
      return { name, sub: id, ...cut }
    }
    case 'revoke-session': {
      const { id, ...cut } = cutoffArguments(name, 'session id', rest, values, env)
      return { name, sid: id, ...cut }
    }
    case 'stats':
      if (rest.length > 0) throw new UsageError(`stats takes no arguments, got ${rest.join(' ')}`)
      return { name, target: target(values, env) }
  }
}
