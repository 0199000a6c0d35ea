export const HELP = `fastify-jwt-revoke: revoke and inspect the tokens of fastify-jwt-revoke's Redis deny-list.

Usage:
  fastify-jwt-revoke revoke <token> [--max-token-lifetime SECONDS]
  fastify-jwt-revoke revoke --jti ID --exp UNIX [--sub SUB]
  fastify-jwt-revoke revoke-subject <sub> [--before UNIX] [--max-token-lifetime SECONDS]
  fastify-jwt-revoke revoke-session <sid> [--before UNIX] [--max-token-lifetime SECONDS]
  fastify-jwt-revoke check <token>
  fastify-jwt-revoke check [--jti ID] [--sub SUB] [--sid SID] [--iat UNIX]
  fastify-jwt-revoke stats
  fastify-jwt-revoke help

Commands:
  revoke          Deny-lists one token until it expires (exp + clock skew), as app.revoke() does.
  revoke-subject  Revokes every token of a subject issued at or before --before (default now), as
                  app.revokeSubject() does. The cutoff is kept for --max-token-lifetime (default 30 days).
  revoke-session  Revokes every token whose sid claim is <sid> (an OpenID Connect session) issued at or
                  before --before (default now), as app.revokeSession() does; kept like a subject's cutoff.
  check           Exit 1 if the token is revoked (its jti, its subject's or its session's cutoff), 0 if not.
  stats           Live entries (revoked token ids, subject and session cutoffs) and the memory they use.

When the key prefix holds no entry of the plugin at all (before a revoke, or for check and stats), the CLI
warns on stderr: the app most likely sets another keyPrefix.

Keys live under the token's subject: give --sub whenever the token has a sub claim, or the entry written (or
looked up) is that of a token without subject, which the plugin never consults for this token.

A <token> is DECODED, NOT VERIFIED: the CLI does not need the signing secret, so it trusts the token's claims
(jti, sub, iat, exp) as written. Anyone who can run it can already write to Redis. "Bearer " is stripped.

Options (every command):
  --redis-url URL      redis:// or rediss:// URL (default: $REDIS_URL)
  --key-prefix PREFIX  the plugin's keyPrefix option (default: jwt-revoke:)
  --clock-skew SECS    the plugin's clockSkew option (default: 60)
  --json               one JSON object on stdout, errors included
  -h, --help           this text
  Give --max-token-lifetime the app's maxTokenLifetime when it sets one.

Exit codes: 0 done (check: not revoked), 1 revoked (check) or failed (Redis unreachable...), 2 usage error.

Examples:
  REDIS_URL=redis://localhost:6379 fastify-jwt-revoke revoke eyJhbGciOi...
  fastify-jwt-revoke revoke-subject user-42 --json
  fastify-jwt-revoke revoke-session 7fa3c1e0-session --json
  fastify-jwt-revoke check --jti 5f1c... --sub user-42 --iat 1767225600
`
