#!/usr/bin/env bash
# `npm run image`: builds dbwatch's OCI image archive without a Docker engine (these machines have none).
#   base layer: a Debian trixie rootfs with nodejs (trixie has Node 20.19; bookworm only 18) and a
#               non-root user, from mmdebstrap; cached outside the repo, keyed by its inputs and the ISO week
#               (so security updates arrive weekly without rebuilding on every run)
#   app layer:  /app/{package.json,node_modules (production only),dist}, /usr/local/bin/dbwatch
# packed with umoci. The Dockerfile produces the same layout for people with Docker.
# Environment: IMAGE (default localhost/dbwatch:dev), OUT (default .dbwatch/image/dbwatch.oci.tar),
# DBWATCH_CACHE_DIR. Prints the archive path on stdout; progress and the size go to stderr.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

IMAGE=${IMAGE:-localhost/dbwatch:dev}
OUT=${OUT:-$repo/.dbwatch/image/dbwatch.oci.tar}
SUITE=trixie
PACKAGES=nodejs,ca-certificates # Debian's node reads the system CA bundle
RECIPE=2 # bump when the base recipe below changes
UID_GID=1000:1000 # the chart's runAsUser

log() { echo "build-image: $*" >&2; }
for tool in mmdebstrap umoci; do
  command -v "$tool" >/dev/null || { log "missing $tool (Debian: apt-get install mmdebstrap umoci)"; exit 1; }
done

tag=${IMAGE##*:}
version=$(node -p "require('./package.json').version")
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- src package.json package-lock.json 2>/dev/null || revision+="-dirty"
source_url=https://github.com/dbwatch/dbwatch
# Reproducible timestamps: the commit's time, not the build's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

cache_root=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}
key=$(printf '%s\n' "$SUITE" "$PACKAGES" "$RECIPE" "$UID_GID" "$(mmdebstrap --version)" "$(umoci --version)" \
  "$(date -u +%G-W%V)" | sha256sum | cut -c1-16)
base="$cache_root/image/base-$SUITE-$key"

work=$(mktemp -d "${TMPDIR:-/tmp}/dbwatch-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootless=(); [ "$(id -u)" -eq 0 ] || rootless=(--rootless)

build_base() {
  log "base layer: mmdebstrap $SUITE with $PACKAGES (about a minute; cached as $base)"
  # Docs, man pages and translations are excluded (copyright files kept): about a third of the size.
  mmdebstrap --quiet --variant=apt --include="$PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='echo "dbwatch:x:1000:1000:dbwatch:/app:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='echo "dbwatch:x:1000:" >> "$1/etc/group"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    "$SUITE" "$work/base.tar"
  umoci init --layout "$work/base"
  umoci new --image "$work/base:base"
  umoci unpack "${rootless[@]}" --image "$work/base:base" "$work/bundle"
  tar -C "$work/bundle/rootfs" -xpf "$work/base.tar"
  umoci repack --image "$work/base:base" --history.created_by "mmdebstrap --variant=apt --include=$PACKAGES $SUITE" "$work/bundle"
  rm -rf "$work/bundle" "$work/base.tar"
  mkdir -p "$(dirname "$base")"
  rm -rf "$base.tmp" && mv "$work/base" "$base.tmp" && mv "$base.tmp" "$base"
}
[ -f "$base/index.json" ] || build_base

log "app layer: production node_modules and dist/ (version $version, revision $revision)"
stage="$work/app"
mkdir -p "$stage"
cp package.json package-lock.json "$stage/"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
# Compiled straight into the staging dir: the shared work tree's dist/ is left alone.
npx tsc -p tsconfig.build.json --outDir "$stage/dist"
chmod 755 "$stage/dist/cli/main.js"
rm -f "$stage/package-lock.json"
# Type declarations, TypeScript sources and source maps are half of node_modules and never run.
find "$stage/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.ts' -o -name '*.md' \) -delete

cp -a "$base" "$work/layout"
umoci unpack "${rootless[@]}" --image "$work/layout:base" "$work/bundle"
rootfs="$work/bundle/rootfs"
mkdir -p "$rootfs/app"
cp -a "$stage/." "$rootfs/app/"
chown -R 0:0 "$rootfs/app" 2>/dev/null || true
ln -sf /app/dist/cli/main.js "$rootfs/usr/local/bin/dbwatch"
umoci repack --image "$work/layout:base" --history.created_by "hack/build-image.sh: /app" "$work/bundle"

labels=(
  "org.opencontainers.image.title=dbwatch"
  "org.opencontainers.image.version=$version"
  "org.opencontainers.image.revision=$revision"
  "org.opencontainers.image.source=$source_url"
  "org.opencontainers.image.licenses=Apache-2.0"
  "org.opencontainers.image.base.name=debian:$SUITE"
)
config_args=(--config.user "$UID_GID" --config.workingdir /app --config.entrypoint dbwatch --config.cmd operator
  --config.env NODE_ENV=production --config.exposedports 8080/tcp --created "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)")
for l in "${labels[@]}"; do config_args+=(--config.label "$l" --manifest.annotation "$l"); done
umoci config --no-history --image "$work/layout:base" --tag "$tag" "${config_args[@]}"
umoci rm --image "$work/layout:base"
umoci gc --layout "$work/layout"

# containerd (ctr images import, kind load image-archive) names the image from this annotation; the OCI
# ref.name annotation holds only the tag.
node -e '
  const fs = require("fs"), [file, image] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const m of index.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": image };
  fs.writeFileSync(file, JSON.stringify(index));
' "$work/layout/index.json" "$IMAGE"

mkdir -p "$(dirname "$OUT")"
tar -C "$work/layout" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
size=$(stat -c %s "$OUT")
log "$IMAGE: $OUT, $((size / 1024 / 1024)) MB compressed ($(du -sh "$rootfs" | cut -f1) unpacked; goal < 150 MB)"
echo "$OUT"
