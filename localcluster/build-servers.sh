#!/usr/bin/env bash
# Builds the real cluster servers (etcd, kube-apiserver, kube-controller-manager, kubectl, MinIO), the node's
# (kubelet, kube-proxy, kube-scheduler, CoreDNS, pause) and the chart tools (helm, kubeconform, kube-score) from the
# pinned Go wrapper modules under localcluster/servers/, into a user
# cache folder, so a fresh clone on the same machine finds them again.
#
# Each binary is cached under a key made of exactly what builds it: its wrapper module's files, the Go version and
# its build flags. Changing one module (or this script) rebuilds only the binaries whose inputs changed. The
# binaries asked for are linked into one bin folder, printed on stdout.
#   usage: build-servers.sh [name...]      (all when none is named)
#   PERENNIAL_CACHE  overrides the cache root (default: ${XDG_CACHE_HOME:-~/.cache}/perennial)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
servers="$here/servers"
export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly" CGO_ENABLED=0

cache_root="${PERENNIAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/perennial}"
store="$cache_root/servers/by-input"
mkdir -p "$store"
go_version="$(go version)"

log() { echo "build-servers: $*" >&2; }

kube_version="$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$servers/kube/go.mod")"
kube_major="$(echo "$kube_version" | sed -E 's/^v([0-9]+)\..*/\1/')"
kube_minor="$(echo "$kube_version" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
kube_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $p.gitVersion=$kube_version -X $p.gitMajor=$kube_major -X $p.gitMinor=$kube_minor"
  kube_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
helm_version="$(awk '$1=="require" && $2=="helm.sh/helm/v3" {print $3}' "$servers/helm/go.mod" 2>/dev/null || true)"
# As helm's Makefile does: the Kubernetes version `helm template`/`lint` assume follows helm's client-go (else 1.20).
helm_kube_minor="$(awk '$1=="k8s.io/client-go" {print $2}' "$servers/helm/go.mod" 2>/dev/null | sed -E 's/^v0\.([0-9]+)\..*/\1/')"
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$helm_kube_minor"
done

# name | wrapper module | package | go build flags (one string)
recipes=(
  "etcd|etcd|.|-ldflags=-s -w"
  "minio|minio|github.com/minio/minio|-ldflags=-s -w"
  "kube-apiserver|kube|k8s.io/kubernetes/cmd/kube-apiserver|-tags=selinux,notest -ldflags=$kube_ldflags"
  "kube-controller-manager|kube|k8s.io/kubernetes/cmd/kube-controller-manager|-tags=selinux,notest -ldflags=$kube_ldflags"
  "kubectl|kube|k8s.io/kubernetes/cmd/kubectl|-tags=selinux,notest -ldflags=$kube_ldflags"
  "kubelet|node|k8s.io/kubernetes/cmd/kubelet|-tags=selinux,notest -ldflags=$kube_ldflags"
  "kube-proxy|node|k8s.io/kubernetes/cmd/kube-proxy|-tags=selinux,notest -ldflags=$kube_ldflags"
  "kube-scheduler|node|k8s.io/kubernetes/cmd/kube-scheduler|-tags=selinux,notest -ldflags=$kube_ldflags"
  "coredns|coredns|github.com/coredns/coredns|-ldflags=-s -w"
  "pause|pause|.|-ldflags=-s -w"
  "helm|helm|helm.sh/helm/v3/cmd/helm|-ldflags=$helm_ldflags"
  "kubeconform|kubeconform|github.com/yannh/kubeconform/cmd/kubeconform|-ldflags=-s -w"
  "kube-score|kube-score|github.com/zegl/kube-score/cmd/kube-score|-ldflags=-s -w"
)
cluster_servers=(etcd minio kube-apiserver kube-controller-manager kubectl)

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(etcd minio kube-apiserver kube-controller-manager kubectl helm kubeconform kube-score kubelet kube-proxy kube-scheduler coredns pause)
# "cluster" stands for the control plane's servers, alone or among other names.
expanded=()
for w in "${wanted[@]}"; do
  if [ "$w" = "cluster" ]; then expanded+=("${cluster_servers[@]}"); else expanded+=("$w"); fi
done
wanted=("${expanded[@]}")

module_digest() { # the files of one wrapper module, in a stable order
  (cd "$servers/$1" && find . -type f | LC_ALL=C sort | xargs sha256sum)
}

built=()
for want in "${wanted[@]}"; do
  recipe=""
  for r in "${recipes[@]}"; do [ "${r%%|*}" = "$want" ] && recipe="$r"; done
  [ -n "$recipe" ] || { log "unknown server $want"; exit 2; }
  IFS='|' read -r name dir pkg flags <<<"$recipe"
  key="$( (echo "$go_version"; echo "$name $pkg"; echo "$flags"; module_digest "$dir") | sha256sum | cut -c1-16)"
  out="$store/$name-$key"
  mkdir -p "$out"
  (
    flock 9 # one build of a binary at a time (tests and the demo may ask at once)
    if [ ! -x "$out/$name" ]; then
      log "building $name from $pkg (first time for these inputs; cached in $out)"
      start=$SECONDS
      tags="" ldflags=""
      case "$flags" in *-tags=*) tags="${flags#*-tags=}"; tags="${tags%% *}" ;; esac
      ldflags="${flags#*-ldflags=}"
      (cd "$servers/$dir" && go build -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$out/.$name.tmp" "$pkg")
      mv "$out/.$name.tmp" "$out/$name"
      log "built $name in $((SECONDS - start))s"
    fi
  ) 9>"$out/.lock"
  built+=("$name:$out/$name")
done

bin="$cache_root/servers/bin-$(printf '%s\n' "${built[@]}" | sha256sum | cut -c1-16)"
mkdir -p "$bin"
for b in "${built[@]}"; do ln -sfn "${b#*:}" "$bin/${b%%:*}"; done
echo "$bin"
