// The revocations mirror-scale.ts writes straight into Redis, and their claims: the i-th token of a million users.

/** Lua that writes entries ARGV[1] to ARGV[2] (SET ... EX, the shape RedisStore writes) under the default prefix. */
export const FILL = `for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  redis.call('SET', 'jwt-revoke:{user-' .. (i % 1000000) .. '}:jti:' .. string.format('%08x-aaaa-4bbb-8ccc-%012d', i, i), '1', 'EX', 3600 + i % 3600)
end
return 1`

export function benchKey (i: number): { jti: string, sub: string } {
  return { jti: `${i.toString(16).padStart(8, '0')}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`, sub: `user-${i % 1_000_000}` }
}
