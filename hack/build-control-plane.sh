#!/usr/bin/env bash
# Builds kube-apiserver, kubectl, etcd and helm (and, on request, the node's kubelet,
# kube-controller-manager, kube-scheduler and kube-proxy) from Go modules into a cache directory outside
# the repo, keyed by version, and prints that directory. Binaries already there are reused.
# Release binaries cannot be downloaded on our machines, hence the source builds (docs/control-plane.md).
set -euo pipefail

K8S_VERSION=1.35.4
ETCD_VERSION=3.6.16
HELM_VERSION=3.22.0

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${DBWATCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbwatch}
bin="$cache_root/controlplane/k8s-v$K8S_VERSION-etcd-v$ETCD_VERSION-helm-v$HELM_VERSION/bin"
mkdir -p "$bin"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod

log() { echo "build-control-plane: $*" >&2; }

k8s_minor=${K8S_VERSION#*.}; k8s_minor=${k8s_minor%%.*}
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build_k8s() {
  local name=$1
  [ -x "$bin/$name" ] && return 0
  log "building $name v$K8S_VERSION (several minutes on 2 cores)"
  (cd "$here/controlplane/kubernetes" && go build -trimpath -ldflags "-s -w $k8s_ldflags" \
    -o "$bin/$name.tmp" "k8s.io/kubernetes/cmd/$name") && mv "$bin/$name.tmp" "$bin/$name"
}

build_etcd() {
  [ -x "$bin/etcd" ] && return 0
  log "building etcd v$ETCD_VERSION"
  (cd "$here/controlplane/etcd" && go build -trimpath -ldflags "-s -w" \
    -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3) && mv "$bin/etcd.tmp" "$bin/etcd"
}

build_helm() {
  [ -x "$bin/helm" ] && return 0
  log "building helm v$HELM_VERSION"
  local flags="-s -w"
  # Without these helm renders charts as if for Kubernetes 1.20.
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  flags+=" -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
  local gopath; gopath=$(mktemp -d)
  GOBIN="$gopath/bin" GOFLAGS= go install -trimpath -ldflags "$flags" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  mv "$gopath/bin/helm" "$bin/helm"; rm -rf "$gopath"
}

targets=${*:-etcd kube-apiserver kubectl helm}
for t in $targets; do
  case $t in
    etcd) build_etcd ;;
    helm) build_helm ;;
    kube-apiserver|kubectl|kubelet|kube-controller-manager|kube-scheduler|kube-proxy) build_k8s "$t" ;;
    node) for n in kubelet kube-controller-manager kube-scheduler kube-proxy; do build_k8s "$n"; done ;;
    *) log "unknown target $t"; exit 2 ;;
  esac
done
echo "$bin"
