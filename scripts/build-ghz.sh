#!/usr/bin/env bash
# Builds ghz (github.com/bojand/ghz, the gRPC load generator bench/grpc-load.ts drives) from the Go module proxy, once,
# into ${PERENNIAL_CACHE:-~/.cache/perennial}/ghz/<version>-<go version>/ghz, and prints its path. v0.93.0 is the
# newest release `go install` builds (later ones carry replace directives in their go.mod, which go install refuses).
# The benchmarks use it, and server-workers.test.ts drives a pod's gRPC port with it (a grpc-go client without retries).
set -euo pipefail
version="v0.93.0"
cache_root="${PERENNIAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/perennial}"
key="$version-$(go env GOVERSION)"
dir="$cache_root/ghz/$key"
if [ ! -x "$dir/ghz" ]; then
  echo "build-ghz: building ghz $version (once; cached in $dir)" >&2
  start=$SECONDS
  mkdir -p "$dir.tmp"
  GOWORK=off GOFLAGS=-mod=mod GOBIN="$dir.tmp" CGO_ENABLED=0 go install "github.com/bojand/ghz/cmd/ghz@$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  echo "build-ghz: ready in $((SECONDS - start)) s" >&2
fi
echo "$dir/ghz"
