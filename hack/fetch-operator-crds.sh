#!/usr/bin/env bash
# Fetches the real CRDs of the database operators that DatabaseDiscovery reads, from their Go modules through
# the Go module proxy at pinned versions, into a cache outside the repo (<cache>/operator-crds/<module>-<version>),
# and prints one line per operator: "<name> <version> <directory>". A directory with a .complete marker is reused.
# Usage: hack/fetch-operator-crds.sh [cloudnative-pg|zalando ...]   (default: all)
# Crunchy PGO is not here: the proxy serves no version of github.com/crunchydata/postgres-operator (its v5/v6
# tags lack the /v5 module path suffix, and pseudo-versions are refused), so its CRD cannot be fetched this way.
set -euo pipefail

CLOUDNATIVE_PG_VERSION=v1.27.1
ZALANDO_VERSION=v1.15.1

cache=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}/operator-crds
mkdir -p "$cache"
log() { echo "fetch-operator-crds: $*" >&2; }

# Copies files (paths inside the module) of module@version into $dir, once.
fetch() {
  local dir=$1 module=$2 version=$3; shift 3
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  log "downloading $module@$version (cold)"
  local src
  src=$(cd "$dir" && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "$module@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] || { log "go mod download $module@$version gave no directory"; return 1; }
  for file in "$@"; do cp "$src/$file" "$dir/"; done
  chmod u+w "$dir"/*
  touch "$dir/.complete"
}

operators=("$@")
[ ${#operators[@]} -eq 0 ] && operators=(cloudnative-pg zalando)
for operator in "${operators[@]}"; do
  case $operator in
    cloudnative-pg) d="$cache/cloudnative-pg-$CLOUDNATIVE_PG_VERSION"
      fetch "$d" github.com/cloudnative-pg/cloudnative-pg "$CLOUDNATIVE_PG_VERSION" \
        config/crd/bases/postgresql.cnpg.io_clusters.yaml config/crd/bases/postgresql.cnpg.io_poolers.yaml
      echo "cloudnative-pg $CLOUDNATIVE_PG_VERSION $d" ;;
    zalando) d="$cache/zalando-postgres-operator-$ZALANDO_VERSION"
      fetch "$d" github.com/zalando/postgres-operator "$ZALANDO_VERSION" manifests/postgresql.crd.yaml
      echo "zalando $ZALANDO_VERSION $d" ;;
    *) log "unknown operator $operator"; exit 2 ;;
  esac
done
