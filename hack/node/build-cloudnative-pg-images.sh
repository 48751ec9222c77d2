#!/usr/bin/env bash
# Images for running CloudNativePG itself on the local node (docs/discovery.md, "CloudNativePG's own operator"),
# built without a Docker engine, as hack/build-image.sh builds dbwatch's:
#   localhost/cloudnative-pg:<version>  CloudNativePG's manager, compiled from its Go module (the proxy's
#                                       github.com/cloudnative-pg/cloudnative-pg at CLOUDNATIVE_PG_VERSION),
#                                       static, at /manager (its Deployment's command; its bootstrap init
#                                       container copies it into each PostgreSQL Pod)
#   localhost/postgresql:17             Debian trixie's postgresql-17, user postgres with uid/gid 26
#                                       (CloudNativePG's default postgresUID), its bin directory on PATH
# Both cached under <cache>/cloudnative-pg keyed by their inputs. Prints "<image> <archive>" per image.
set -euo pipefail
CLOUDNATIVE_PG_VERSION=v1.27.1
PG_MAJOR=17
SUITE=trixie
RECIPE=1

cache=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}/cloudnative-pg
mkdir -p "$cache"
log() { echo "build-cloudnative-pg-images: $*" >&2; }
rootless=(); [ "$(id -u)" -eq 0 ] || rootless=(--rootless)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

# Packs directory $2 (a root filesystem) as image $1 into archive $3, with umoci config arguments after.
pack() {
  local image=$1 rootfs=$2 out=$3; shift 3
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/cnpg-image.XXXXXX")
  umoci init --layout "$work/layout"
  umoci new --image "$work/layout:img"
  umoci unpack "${rootless[@]}" --image "$work/layout:img" "$work/bundle"
  cp -a "$rootfs/." "$work/bundle/rootfs/"
  umoci repack --image "$work/layout:img" "$work/bundle"
  umoci config --no-history --image "$work/layout:img" --tag "${image##*:}" "$@"
  umoci rm --image "$work/layout:img"
  umoci gc --layout "$work/layout"
  node -e '
    const fs = require("fs"), [file, image] = process.argv.slice(1);
    const index = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const m of index.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": image };
    fs.writeFileSync(file, JSON.stringify(index));
  ' "$work/layout/index.json" "$image"
  tar -C "$work/layout" --sort=name --owner=0 --group=0 --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
  rm -rf "$work"
}

manager="$cache/manager-$CLOUDNATIVE_PG_VERSION"
if [ ! -x "$manager" ]; then
  log "compiling CloudNativePG's manager $CLOUDNATIVE_PG_VERSION from its Go module (minutes on 2 cores)"
  src=$(cd /tmp && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "github.com/cloudnative-pg/cloudnative-pg@$CLOUDNATIVE_PG_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  # Built inside the module (not go install: its @v/list, read for deprecation notices, is refused by the proxy).
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w" -o "$manager.tmp" ./cmd/manager)
  mv "$manager.tmp" "$manager"
fi
operator_image="localhost/cloudnative-pg:${CLOUDNATIVE_PG_VERSION#v}"
operator_archive="$cache/operator-$CLOUDNATIVE_PG_VERSION.oci.tar"
if [ ! -f "$operator_archive" ]; then
  log "image $operator_image"
  root=$(mktemp -d) && install -m 0755 "$manager" "$root/manager"
  pack "$operator_image" "$root" "$operator_archive" --config.user 10001:10001 --config.entrypoint /manager
  rm -rf "$root"
fi
echo "$operator_image $operator_archive"

key=$(printf '%s\n' "$SUITE" "$PG_MAJOR" "$RECIPE" "$(date -u +%G-W%V)" | sha256sum | cut -c1-12)
pg_image="localhost/postgresql:$PG_MAJOR"
pg_archive="$cache/postgresql-$PG_MAJOR-$key.oci.tar"
if [ ! -f "$pg_archive" ]; then
  log "image $pg_image: mmdebstrap $SUITE with postgresql-$PG_MAJOR (about a minute)"
  work=$(mktemp -d)
  # The postgres user exists (uid/gid 26) before postgresql-common's postinst would create one of its own.
  mmdebstrap --quiet --variant=apt --include="postgresql-$PG_MAJOR,locales-all,ca-certificates" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --essential-hook='echo "postgres:x:26:26:PostgreSQL administrator:/var/lib/postgresql:/bin/sh" >> "$1/etc/passwd"' \
    --essential-hook='echo "postgres:x:26:" >> "$1/etc/group"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/* "$1"/var/lib/postgresql/*/main "$1"/etc/postgresql/*/main' \
    "$SUITE" "$work/rootfs.tar"
  mkdir "$work/rootfs" && tar -C "$work/rootfs" -xpf "$work/rootfs.tar"
  pack "$pg_image" "$work/rootfs" "$pg_archive" --config.user 26:26 \
    --config.env "PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.env LANG=C.UTF-8
  rm -rf "$work"
fi
echo "$pg_image $pg_archive"
