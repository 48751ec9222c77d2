#!/usr/bin/env bash
# Builds prometheus-community/postgres_exporter (the peer benchmark's other tool, bench/peer.ts) from its Go
# module into a cache directory outside the repo, keyed by version, and prints the binary's path. A binary
# already there is reused. Release binaries cannot be downloaded on our machines, hence the source build.
set -euo pipefail

VERSION=0.19.1

cache_root=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}
dir="$cache_root/postgres-exporter/v$VERSION"
binary="$dir/postgres_exporter"
if [ ! -x "$binary" ]; then
  echo "build-postgres-exporter: building postgres_exporter v$VERSION (a minute or two on 2 cores)" >&2
  mkdir -p "$dir"
  # `go install module@version` also asks the proxy for the module's version list (for deprecation notices),
  # which it refuses for this module: build from the downloaded module instead, with its own go.sum.
  src=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json \
    "github.com/prometheus-community/postgres_exporter@v$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  # The version is stamped as the project's own release build does (promu sets it).
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly go build -trimpath \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=$VERSION" \
    -o "$binary.tmp" ./cmd/postgres_exporter)
  mv "$binary.tmp" "$binary"
fi
echo "$binary"
