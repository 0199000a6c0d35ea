/**
 * The environment for a child process a test spawns (the example server, a benchmark server, the CLI): the parent's,
 * without tap's coverage hooks. A child loads our sources through its own TypeScript loader, and its coverage, mapped
 * differently, would garble the report of the test that spawned it.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'NODE_OPTIONS' || name.startsWith('_TAPJS_PROCESSINFO_')) continue
    env[name] = value
  }
  return { ...env, ...extra }
}
