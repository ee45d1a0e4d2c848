#!/usr/bin/env bash
# Builds the real cluster servers (etcd, kube-apiserver, kube-controller-manager, kubectl, MinIO) and the chart
# tools (helm, kubeconform, kube-score) from the
# pinned Go modules under localcluster/servers/, into a user cache folder keyed by a hash of the pins, so a
# fresh clone on the same machine finds them again. Prints the folder holding the binaries on stdout.
#   PERENNIAL_CACHE  overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/perennial)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
servers="$here/servers"
export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly" CGO_ENABLED=0

kube_version="$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$servers/kube/go.mod")"
pins_hash="$( (go version; cat "$here/build-servers.sh"; find "$servers" -type f | LC_ALL=C sort | xargs cat) \
  | sha256sum | cut -c1-16)"
cache_root="${PERENNIAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/perennial}"
bin="$cache_root/servers/$pins_hash/bin"
mkdir -p "$bin"

log() { echo "build-servers: $*" >&2; }

# One build at a time per cache folder (tests and the demo may call this at once).
exec 9>"$bin/.lock"
flock 9

build() { # name module-dir package [extra go build args...]
  local name="$1" dir="$2" pkg="$3"; shift 3
  if [ -x "$bin/$name" ]; then return 0; fi
  log "building $name from $pkg (first time for these pins; cached in $bin)"
  local start=$SECONDS
  (cd "$servers/$dir" && go build -trimpath -o "$bin/.$name.tmp" "$@" "$pkg")
  mv "$bin/.$name.tmp" "$bin/$name"
  log "built $name in $((SECONDS - start))s"
}

kube_ldflags() {
  local major minor
  major="$(echo "$kube_version" | sed -E 's/^v([0-9]+)\..*/\1/')"
  minor="$(echo "$kube_version" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
  local flags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $p.gitVersion=$kube_version -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

build etcd etcd . -ldflags "-s -w"
build minio minio github.com/minio/minio -ldflags "-s -w"
for cmd in kube-apiserver kube-controller-manager kubectl; do
  build "$cmd" kube "k8s.io/kubernetes/cmd/$cmd" -tags selinux,notest -ldflags "$(kube_ldflags)"
done

# Chart tooling (charts/perennial tests): each from its own wrapper module, so their dependencies never drift
# into the cluster's. Version stamps keep `helm version` honest.
helm_version="$(awk '$1=="require" && $2=="helm.sh/helm/v3" {print $3}' "$servers/helm/go.mod")"
build helm helm helm.sh/helm/v3/cmd/helm -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
build kubeconform kubeconform github.com/yannh/kubeconform/cmd/kubeconform -ldflags "-s -w"
build kube-score kube-score github.com/zegl/kube-score/cmd/kube-score -ldflags "-s -w"

echo "$bin"
