#!/usr/bin/env bash
# Builds the real control-plane binaries (kube-apiserver, etcd, kube-controller-manager, kubectl)
# and helm from pinned Go modules into a cache folder outside the repository, once per version.
# Prints the folder on its last line. Honours KUBEBUILDER_ASSETS / TEST_ASSET_*: when every binary
# is already provided there, nothing is built.
set -euo pipefail

K8S_VERSION=1.37.2
HELM_VERSION=4.3.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
names=(kube-apiserver etcd kube-controller-manager kubectl helm)

asset_var() { local n=${1^^}; echo "TEST_ASSET_${n//[^A-Z0-9]/_}"; }

# Binaries supplied by the caller win, as envtest does.
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  missing=0
  for n in "${names[@]}"; do
    v=$(asset_var "$n")
    [ -x "${!v:-}" ] || [ -x "$KUBEBUILDER_ASSETS/$n" ] || missing=1
  done
  if [ "$missing" = 0 ]; then echo "$KUBEBUILDER_ASSETS"; exit 0; fi
fi

command -v go >/dev/null || { echo "go is required to build the control plane (Go >= 1.26)" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
gover=$(go env GOVERSION)
out="${K8S_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-replicator/k8s-testbin}/${K8S_VERSION}-helm${HELM_VERSION}-${gover}-$(go env GOOS)-$(go env GOARCH)"
mkdir -p "$out"

ldf="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$(echo $K8S_VERSION | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=v${K8S_VERSION}"
hldf="-s -w -X helm.sh/helm/v4/internal/version.version=v${HELM_VERSION}"

build() { # name module-dir package ldflags
  local name=$1 dir=$2 pkg=$3 flags=$4
  [ -x "$out/$name" ] && return 0
  local t0=$SECONDS
  echo "building $name ($pkg) ..." >&2
  (cd "$dir" && go build -trimpath -ldflags "$flags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"   # atomic: a half-built binary is never picked up
  echo "built $name in $((SECONDS - t0))s" >&2
}

build kube-apiserver          "$here/k8s-testbin" k8s.io/kubernetes/cmd/kube-apiserver "$ldf"
build etcd                    "$here/k8s-testbin" go.etcd.io/etcd/server/v3 "-s -w"
build kube-controller-manager "$here/k8s-testbin" k8s.io/kubernetes/cmd/kube-controller-manager "$ldf"
build kubectl                 "$here/k8s-testbin" k8s.io/kubernetes/cmd/kubectl "$ldf"
build helm                    "$here/helm"        helm.sh/helm/v4/cmd/helm "$hldf"
echo "$out"
