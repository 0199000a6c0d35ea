export const HELP = `fastify-jwt-revoke: revoke and inspect the tokens of fastify-jwt-revoke's Redis deny-list.

Usage:
  fastify-jwt-revoke revoke <token> [--max-token-lifetime SECONDS] [--force]
  fastify-jwt-revoke revoke --jti ID --exp UNIX [--sub SUB] [--force]
  fastify-jwt-revoke revoke-subject <sub> [--before UNIX] [--max-token-lifetime SECONDS] [--force]
  fastify-jwt-revoke revoke-session <sid> [--before UNIX] [--max-token-lifetime SECONDS] [--force]
  fastify-jwt-revoke check <token>
  fastify-jwt-revoke check [--jti ID] [--sub SUB] [--sid SID] [--iat UNIX]
  fastify-jwt-revoke stats
  fastify-jwt-revoke help | --version

Commands:
  revoke          Deny-lists one token until it expires (exp + clock skew), as app.revoke() does. A longer
                  revocation already stored is kept.
  revoke-subject  Revokes every token of a subject issued at or before --before (default now), as
                  app.revokeSubject() does. The cutoff is kept for --max-token-lifetime (default 30 days).
                  --before is Unix seconds, at most --clock-skew ahead; milliseconds are refused.
  revoke-session  Revokes every token whose sid claim is <sid> (an OpenID Connect session) issued at or
                  before --before (default now), as app.revokeSession() does; kept like a subject's cutoff
                  (same --before and --max-token-lifetime rules).
  check           Exit 1 if the token is revoked (its jti, its subject's or its session's cutoff), 0 if not,
                  3 if Redis could not be asked.
  stats           Live entries (revoked token ids, subject and session cutoffs) and the memory they use.

When the key prefix holds no entry of the plugin at all, revoke, revoke-subject and revoke-session write
nothing and exit 2: the app most likely uses another prefix. Pass --force for the app's very first
revocation. check and stats only warn on stderr.

Keys live under the token's subject: give --sub whenever the token has a sub claim, or the entry written (or
looked up) is that of a token without subject, which the plugin never consults for this token.

A <token> is DECODED, NOT VERIFIED: the CLI does not need the signing secret, so it trusts the token's claims
(jti, sub, iat, exp) as written. Anyone who can run it can already write to Redis. "Bearer " is stripped.

Options (every command):
  --redis-url URL      redis://[user:password@]host[:port][/db] or rediss://... (default: $REDIS_URL)
  --key-prefix PREFIX  the WHOLE prefix of the keys in Redis: the app's ioredis client keyPrefix, if it
                       sets one, followed by the plugin's keyPrefix option (default: jwt-revoke:). For a
                       client made with keyPrefix 'app1:': --key-prefix app1:jwt-revoke:
  --clock-skew SECS    the plugin's clockSkew option (default: 60), plus how long past exp the app accepts
                       a token, if it does (@fastify/jwt verify.clockTolerance, the plugin's acceptExpiredFor)
  --json               one JSON object on stdout, errors included
  --force              write even under a prefix that holds no entry yet
  -h, --help           this text
  --version            the package's version
  Give --max-token-lifetime the app's maxTokenLifetime when it sets one.

Exit codes:
  0  done (check: not revoked)
  1  check: revoked
  2  usage error: nothing was written (a bad flag or value, a prefix without entries and no --force)
  3  failed: Redis unreachable, silent or refusing (check could not ask; a write is not known to be made)

Examples:
  REDIS_URL=redis://localhost:6379 fastify-jwt-revoke revoke eyJhbGciOi...
  fastify-jwt-revoke revoke-subject user-42 --json
  fastify-jwt-revoke revoke-session 7fa3c1e0-session --json
  fastify-jwt-revoke check --jti 5f1c... --sub user-42 --iat 1767225600
`
