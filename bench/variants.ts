/** The servers the benchmark compares, in table order. Shared by the parent (table, order) and the child (build). */
export const SERVERS = [
  { id: 'none', label: '(1) no auth' },
  { id: 'jwt', label: '(2) bare @fastify/jwt' },
  { id: 'jwt-async', label: '(2b) bare + setImmediate' },
  { id: 'memory', label: '(3) plugin, memory' },
  { id: 'redis', label: '(4) plugin, Redis' },
  { id: 'redis-pipelined', label: '(5) plugin, Redis autopipel.' },
  { id: 'mirror', label: '(6) plugin, mirror mode' }
] as const

export type ServerId = typeof SERVERS[number]['id']

/** The two baselines every other server is compared with, measured in the same round. */
export const BARE: ServerId = 'jwt'
export const ASYNC_CONTROL: ServerId = 'jwt-async'

/** The plugin configurations the benchmark runs (servers (3) to (6) and the revoke() figures). */
export type StoreKind = 'memory' | 'redis' | 'redis-pipelined' | 'mirror'

/** The plugin's store for servers (3) to (6); undefined for the servers without the plugin. */
export function storeKind (id: ServerId): StoreKind | undefined {
  return id === 'none' || id === 'jwt' || id === 'jwt-async' ? undefined : id
}

/** Narrows a command-line argument (the child's first one) to a server id. */
export function isServerId (value: string): value is ServerId {
  return SERVERS.some((server) => server.id === value)
}
