/**
 * The environment for a child process a test spawns (the example server, a benchmark server, the CLI): the parent's,
 * with tap's coverage switched off in the child. A child loads our sources through its own TypeScript loader (tsx),
 * and its coverage, mapped to other line numbers, would garble the report of the test that spawned it. tap's
 * processinfo re-adds its hooks to every child it sees spawned, so they cannot simply be removed; this flag is the one
 * it honours.
 */
export function childEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0', ...extra }
}
