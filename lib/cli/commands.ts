import type { Redis } from 'ioredis'
import { RedisStore } from '../stores/redis.js'
import { nowSeconds, subjectCutoff, tokenTtl } from '../ttl.js'
import type { TokenRef, Target } from './args.js'
import { withRedis } from './connect.js'
import { asUsage, UsageError } from './errors.js'
import { claimLabel, isoTime, type Outcome } from './output.js'
import { emptyPrefixRefusal, emptyPrefixWarning, prefixHasEntries } from './prefix.js'

const NOT_VERIFIED = ' (decoded from the token, whose signature was not verified)'
// Keys are filed under the subject: a jti given without --sub names the entry of a token that has no sub claim.
const NO_SUB = '\nNote: no --sub was given, so this only concerns a token without a sub claim.'

// The plugin's own store: the CLI writes and reads exactly the keys the plugin does.
function storeOf (client: Redis, target: Target): RedisStore {
  return new RedisStore({ client, keyPrefix: target.keyPrefix })
}

/**
 * Runs `write` once the prefix is known to hold entries of the plugin. A prefix that holds none is most often not the
 * app's (another keyPrefix, a client keyPrefix left out): the write would land where no instance reads it while the
 * operator believes the token revoked, so it stops, unless the operator insists (--force: the app's first revocation).
 */
async function writing (client: Redis, target: Target, force: boolean, write: (store: RedisStore) => Promise<void>): Promise<void> {
  if (!force && !await prefixHasEntries(client, target.keyPrefix)) throw new UsageError(emptyPrefixRefusal(target.keyPrefix))
  await write(storeOf(client, target))
}

function noSub (claims: { sub?: string | undefined }, decoded: boolean): string {
  return decoded || claims.sub !== undefined ? '' : NO_SUB
}

export async function revoke (target: Target, { claims, decoded }: TokenRef, force: boolean): Promise<Outcome> {
  // The same TTL the plugin's revoke() computes; known before connecting, so a token without exp fails as usage.
  const ttl = asUsage(() => tokenTtl(claims, target), (message) => message.replace('the maxTokenLifetime option', '--max-token-lifetime (the app\'s maxTokenLifetime)'))
  const json = { command: 'revoke', jti: claims.jti, sub: claims.sub, exp: claims.exp, decoded, written: ttl > 0 }
  if (ttl <= 0) {
    return { code: 0, json, text: `Nothing to do: token ${claimLabel(claims)} is past its lifetime plus the ${target.clockSkew} s clock skew; no server accepts it any more.` }
  }
  // Claims were read with the jti required, as the plugin's revoke() reads them.
  await withRedis(target.redisUrl, (client) => writing(client, target, force, (store) => store.revoke({ jti: claims.jti as string, sub: claims.sub }, ttl)))
  const until = nowSeconds() + ttl
  return {
    code: 0,
    json: { ...json, ttlSeconds: ttl, until: isoTime(until) },
    text: `Revoked token ${claimLabel(claims)}${decoded ? NOT_VERIFIED : ''}: deny-listed for ${ttl} s, until ${isoTime(until)}.${noSub(claims, decoded)}`
  }
}

/** A cutoff of a subject or of a session: the same instant, lifetime and answers, filed under another key. */
async function revokeAll (target: Target, what: { command: string, claim: 'sub' | 'sid', id: string, label: string },
  before: number | undefined, force: boolean, write: (store: RedisStore, cutoff: number, ttl: number) => Promise<void>): Promise<Outcome> {
  const { cutoff, ttl } = subjectCutoff(before, target)
  const json = { command: what.command, [what.claim]: what.id, cutoff, cutoffAt: isoTime(cutoff), written: ttl > 0 }
  const issued = `of ${what.label} issued at or before ${isoTime(cutoff)}`
  if (ttl <= 0) {
    return { code: 0, json, text: `Nothing to do: every token ${issued} has expired (cutoff lifetime ${target.cutoffLifetime} s, clock skew ${target.clockSkew} s).` }
  }
  await withRedis(target.redisUrl, (client) => writing(client, target, force, (store) => write(store, cutoff, ttl)))
  const kept = what.claim === 'sub' ? 'subject' : 'session'
  return {
    code: 0,
    json: { ...json, ttlSeconds: ttl },
    text: `Revoked every token ${issued}, for ${ttl} s. (A later cutoff or a longer TTL already stored for this ${kept} is kept.)`
  }
}

export async function revokeSubject (target: Target, sub: string, before: number | undefined, force: boolean): Promise<Outcome> {
  return await revokeAll(target, { command: 'revoke-subject', claim: 'sub', id: sub, label: `sub=${sub}` }, before, force,
    (store, cutoff, ttl) => store.revokeSubject(sub, cutoff, ttl))
}

export async function revokeSession (target: Target, sid: string, before: number | undefined, force: boolean): Promise<Outcome> {
  return await revokeAll(target, { command: 'revoke-session', claim: 'sid', id: sid, label: `session sid=${sid}` }, before, force,
    (store, cutoff, ttl) => store.revokeSession(sid, cutoff, ttl))
}

export async function check (target: Target, { claims, decoded }: TokenRef): Promise<Outcome> {
  const { revoked, used } = await withRedis(target.redisUrl, async (client) => {
    const revoked = await storeOf(client, target).isRevoked(claims)
    return { revoked, used: revoked || await prefixHasEntries(client, target.keyPrefix) }
  })
  const expired = claims.exp !== undefined && claims.exp < nowSeconds()
  const label = `token ${claimLabel(claims)}${decoded ? NOT_VERIFIED : ''}`
  return {
    code: revoked ? 1 : 0,
    warning: used ? undefined : emptyPrefixWarning(target.keyPrefix),
    json: { command: 'check', revoked, jti: claims.jti, sub: claims.sub, sid: claims.sid, iat: claims.iat, exp: claims.exp, expired, decoded },
    text: (revoked ? `REVOKED: ${label}` : `Not revoked: ${label}`) + (expired ? `; it expired at ${isoTime(claims.exp as number)} anyway` : '') +
      noSub(claims, decoded)
  }
}
