// The revocations mirror-scale.ts writes straight into Redis, and their claims: the i-th token of a million users.

/**
 * Lua that writes revocations ARGV[1] to ARGV[2] (SET ... EX, the shapes RedisStore writes) under the default prefix:
 * the i-th token, and for one i in a hundred a subject cutoff at 1000 (so a token issued later passes).
 */
export const FILL = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  if i % 100 == 0 then
    redis.call('SET', 'jwt-revoke:{cut-' .. i .. '}:cutoff', '1000', 'EX', 3600 + i % 3600)
  else
    redis.call('SET', 'jwt-revoke:{user-' .. (i % 1000000) .. '}:jti:' .. string.format('%08x-aaaa-4bbb-8ccc-%012d', i, i), '1', 'EX', 3600 + i % 3600)
  end
end
return 1`

export function benchKey (i: number): { jti: string, sub: string } {
  return { jti: `${i.toString(16).padStart(8, '0')}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`, sub: `user-${i % 1_000_000}` }
}
