#!/usr/bin/env bash
# Builds hack/gitops-health into a cache directory outside the repo, keyed by a hash of its sources (so a new
# gopher-lua or cli-utils version, or a changed main.go, builds anew), and prints the binary's path.
# Callers hold /tmp/dbwatch-heavy.lock (a Go build is heavy on our shared 2 cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}
key=$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go | sha256sum | cut -c1-16)
bin="$cache_root/gitops-health/$key/gitops-health"
if [ ! -x "$bin" ]; then
  echo "build-gitops-health: building $key" >&2
  mkdir -p "$(dirname "$bin")"
  (cd "$here" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$bin.tmp" .)
  mv "$bin.tmp" "$bin"
fi
echo "$bin"
