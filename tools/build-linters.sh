#!/usr/bin/env bash
# Builds the Go tools the tests run (actionlint, promtool, the Dockerfile linter, Krew) from pinned Go modules into
# a cache folder outside the repository. Each tools/linters/<name>/ is its own Go module whose go.mod declares
# the tool (`go get -tool <pkg>@<version>`); separate modules keep one tool's dependencies from moving another's.
# The cache key is the module's go.mod + go.sum and its own Go sources (a linter written here, like
# dockerfile-lint), so bumping a version or editing the source rebuilds it.
# Usage: build-linters.sh [name ...]   (default: every tools/linters/*). Prints "<name> <path>" per tool.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"; }
command -v go >/dev/null || { echo "go is required to build the linters (Go >= 1.26)" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
cache="${K8S_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-replicator/k8s-testbin}/linters"

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$here"/linters/*/; do [ -f "$d/go.mod" ] && names+=("$(basename "$d")"); done
fi

for name in "${names[@]}"; do
  dir="$here/linters/$name"
  [ -f "$dir/go.mod" ] || { echo "no linter module $dir/go.mod" >&2; exit 1; }
  key=$(find "$dir" -name go.mod -o -name go.sum -o -name '*.go' | sort | xargs cat | sha256sum | cut -c1-12)
  out="$cache/$name-$key-$(go env GOVERSION)-$(go env GOOS)-$(go env GOARCH)"
  if [ ! -x "$out/$name" ]; then
    t0=$SECONDS
    echo "building $name ..." >&2
    mkdir -p "$cache"
    tmp=$(mktemp -d "$out.XXXXXX")   # its own folder: two runs at once must not move each other's build
    # `go install tool` builds every tool the module declares; the one named like the folder is the linter.
    (cd "$dir" && GOBIN="$tmp" go install -trimpath -ldflags "-s -w" tool)
    [ -x "$tmp/$name" ] || { echo "tools/linters/$name declares no tool named $name" >&2; exit 1; }
    # Atomic: a half-built folder is never picked up; if another run finished first, keep its copy.
    mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"
    echo "built $name in $((SECONDS - t0))s" >&2
  fi
  echo "$name $out/$name"
done
