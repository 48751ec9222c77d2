#!/usr/bin/env bash
# Builds hack/alertmanager-config into a cache directory outside the repo, keyed by a hash of its sources (a new
# Prometheus Operator version or a changed main.go builds anew), and prints the binary's path. The first build
# on a machine takes a few minutes (client-go and the Prometheus Operator's packages); it holds
# /tmp/dbwatch-heavy.lock meanwhile (a Go build is heavy on our shared 2 cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}
key=$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go | sha256sum | cut -c1-16)
bin="$cache_root/alertmanager-config/$key/alertmanager-config"
if [ ! -x "$bin" ]; then
  echo "build-alertmanager-config: building $key" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$here" && flock /tmp/dbwatch-heavy.lock env CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    nice -n 10 go build -trimpath -ldflags "-s -w" -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
