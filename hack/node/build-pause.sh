#!/usr/bin/env bash
# The node's sandbox ("pause") image, which no registry can supply here: pause.c from the k8s.io/kubernetes
# module source, compiled with gcc -static, packed with umoci into an OCI archive cached outside the repo
# (keyed by the Kubernetes version). Prints the archive path; containerd's sandbox_image names PAUSE_IMAGE.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-1.35.4}
PAUSE_IMAGE=${PAUSE_IMAGE:-localhost/pause:k8s-v$K8S_VERSION}
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}
out="$cache_root/image/pause-k8s-v$K8S_VERSION.oci.tar"
[ -f "$out" ] && { echo "$out"; exit 0; }

src="$(cd "$here/../controlplane/kubernetes" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" \
  | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')/build/pause/linux/pause.c"
[ -f "$src" ] || { echo "build-pause: $src not found" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dbwatch-pause.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -Os -static -DVERSION="v$K8S_VERSION-dbwatch" -o "$work/pause" "$src"
strip "$work/pause"
tag=${PAUSE_IMAGE##*:}
umoci init --layout "$work/layout"
umoci new --image "$work/layout:$tag"
umoci unpack --image "$work/layout:$tag" "$work/bundle"
install -m 755 "$work/pause" "$work/bundle/rootfs/pause"
umoci repack --image "$work/layout:$tag" --history.created_by "gcc -static pause.c" "$work/bundle"
umoci config --no-history --image "$work/layout:$tag" --config.entrypoint /pause --config.user 65535:65535
umoci gc --layout "$work/layout"
node -e '
  const fs = require("fs"), [file, image] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const m of index.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": image };
  fs.writeFileSync(file, JSON.stringify(index));
' "$work/layout/index.json" "$PAUSE_IMAGE"
mkdir -p "$(dirname "$out")"
tar -C "$work/layout" -cf "$out.tmp" . && mv "$out.tmp" "$out"
echo "$out"
