#!/usr/bin/env bash
# The peer-version matrix: the focused tests run against the oldest and the newest versions package.json accepts of
# @fastify/jwt, fastify, @fastify/redis and ioredis (the plugin's own ioredis 6, and an app's ioredis 5 client through
# the `ioredis-5` alias the tests import). Each cell installs its versions with `npm install --no-save` into a copy of
# the checkout made in a temporary directory, so the checkout and its lockfile are never changed.
# Usage: scripts/peer-matrix.sh [cell...]   (cells: oldest newest; default both). Prints tap's summary per cell and
# exits non-zero if a cell failed. Needs what `npm test` needs (node_modules installed, redis-server on PATH).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# The versions of each cell. Keep them in step with peerDependencies (and `dependencies.ioredis`) in package.json.
cell_packages() {
  case "$1" in
  oldest) echo '@fastify/jwt@10.2.2 fastify@5.0.0 @fastify/redis@7.0.0 ioredis@6.0.0 ioredis-5@npm:ioredis@5.0.0' ;;
  newest) echo '@fastify/jwt@10 fastify@5 @fastify/redis@9 ioredis@6 ioredis-5@npm:ioredis@5' ;;
  *) echo "scripts/peer-matrix.sh: unknown cell $1 (oldest, newest)" >&2; return 2 ;;
  esac
}

# Every path where a peer's version matters: each verification path, the trusted hook, @fastify/jwt's namespaces,
# options and the store choice with @fastify/redis, the Redis store, an ioredis 5 client whose connection goes silent.
# (test/jwt-compat.test.ts runs the published suite of the @fastify/jwt installed, whose layout changes between
# versions: npm test runs it on the newest.)
tests=(
  test/plugin.test.ts
  test/stores.test.ts
  test/reliability/silent-connection.test.ts
)

cells=("$@")
[ "${#cells[@]}" -gt 0 ] || cells=(oldest newest)
status=0
for name in "${cells[@]}"; do
  packages=$(cell_packages "$name") || exit 2
  work=$(mktemp -d "${TMPDIR:-/tmp}/peer-matrix-$name-XXXXXX")
  # The files git knows (what a clone has), and node_modules copied so the install below changes only the copy.
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$work"
  cp -a "$root/node_modules" "$work/node_modules"
  echo "::: peer matrix, $name: npm install --no-save $packages"
  # shellcheck disable=SC2086 # the package list is words on purpose
  if ! (cd "$work" && npm install --no-save --no-audit --no-fund $packages >/dev/null); then
    echo "::: peer matrix, $name: the install failed"
    status=1
  else
    (cd "$work" && node -e '
      for (const name of ["@fastify/jwt", "fastify", "@fastify/redis", "ioredis", "ioredis-5"]) {
        console.log(`:::   ${name} ${require(require.resolve(name + "/package.json", { paths: [process.cwd()] })).version}`)
      }')
    (cd "$work" && npx tap --allow-incomplete-coverage --disable-coverage --timeout=240 "${tests[@]}") || status=1
  fi
  rm -rf "$work"
done
exit "$status"
