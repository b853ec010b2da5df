#!/usr/bin/env bash
# Builds (once) and locates the control-plane binaries the local cluster runs:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm.
#
# Each comes from a small wrapper Go module beside this script (go.mod + go.sum, pinned). The
# binaries are cached outside the repository, under a key made of the component's version and a
# hash of its go.mod/go.sum, so bumping a version or a dependency builds again and nothing else
# does. A binary found in $KUBEBUILDER_ASSETS (envtest's layout: etcd, kube-apiserver, kubectl)
# is used instead of building it.
#
# Usage:
#   build.sh            build what is missing, then print NAME=PATH for every binary
#   build.sh --check    print NAME=PATH, or exit 3 naming what would have to be built
# Env:
#   ZCSP_CACHE_DIR      cache root (default: ${XDG_CACHE_HOME:-~/.cache}/zcsp)
#   KUBEBUILDER_ASSETS  folder of prebuilt binaries, used first
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ZCSP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zcsp}
mode=${1:-build}
missing=()

log() { printf '[binaries] %s\n' "$*" >&2; }

# module_version MODULE_DIR GO_MODULE_PATH → the pinned version of that requirement
module_version() {
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"
}

# cache_key NAME MODULE_DIR VERSION LDFLAGS → NAME-VERSION-<hash of go.mod, go.sum, the Go release
# and the link flags>: any input that changes the binaries changes the key.
cache_key() {
  local h
  h=$( { cat "$2/go.mod" "$2/go.sum"; go env GOVERSION; echo "$4"; } | sha256sum | cut -c1-12)
  echo "$1-$3-$h"
}

# build_set KEY MODULE_DIR LDFLAGS NAME=PKG... → builds each package as $cache/bin/KEY/NAME; the
# folder appears only once all are built, so an interrupted build is never mistaken for a cached one
build_set() {
  local key=$1 dir=$2 ldflags=$3
  shift 3
  local out="$cache/bin/$key"
  [[ -f "$out/.complete" ]] && return 0
  if [[ $mode == --check ]]; then
    missing+=("$key")
    return 0
  fi
  local tmp="$cache/bin/.tmp-$key-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  log "building $key — the first build takes several minutes"
  local start=$SECONDS spec
  for spec in "$@"; do
    log "  go build ${spec#*=}"
    # -trimpath: no local paths in the binaries. CGO is not needed by any of them.
    (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/${spec%%=*}" "${spec#*=}")
  done
  touch "$tmp/.complete"
  rm -rf "$out"
  mv "$tmp" "$out"
  log "built $key in $((SECONDS - start))s"
}

# resolve NAME KEY → prints NAME=PATH, preferring KUBEBUILDER_ASSETS
resolve() {
  if [[ -n ${KUBEBUILDER_ASSETS:-} && -x "$KUBEBUILDER_ASSETS/$1" ]]; then
    echo "$1=$KUBEBUILDER_ASSETS/$1"
  else
    echo "$1=$cache/bin/$2/$1"
  fi
}

need() { # need NAME... → true when some NAME is not provided by KUBEBUILDER_ASSETS
  local n
  for n in "$@"; do
    [[ -n ${KUBEBUILDER_ASSETS:-} && -x "$KUBEBUILDER_ASSETS/$n" ]] || return 0
  done
  return 1
}

command -v go >/dev/null || { log "go is not installed: it is needed to build the Kubernetes binaries"; exit 2; }

kube_version=$(module_version "$here/kube" k8s.io/kubernetes)
etcd_version=$(module_version "$here/etcd" go.etcd.io/etcd/server/v3)
helm_version=$(module_version "$here/helm" helm.sh/helm/v4)
kube_minor=$(echo "$kube_version" | cut -d. -f2)

# Without these the binaries report v0.0.0-master, which breaks version checks (helm kubeVersion).
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z -X $pkg.gitCommit="
done

helm_ldflags="-X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
kube_key=$(cache_key kubernetes "$here/kube" "$kube_version" "$kube_ldflags")
etcd_key=$(cache_key etcd "$here/etcd" "$etcd_version" "")
helm_key=$(cache_key helm "$here/helm" "$helm_version" "$helm_ldflags")

if need kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  build_set "$kube_key" "$here/kube" "$kube_ldflags" \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kubectl=k8s.io/kubernetes/cmd/kubectl
fi
if need etcd; then
  build_set "$etcd_key" "$here/etcd" "" etcd=go.etcd.io/etcd/server/v3
fi
if need helm; then
  build_set "$helm_key" "$here/helm" "$helm_ldflags" \
    helm=helm.sh/helm/v4/cmd/helm
fi

if ((${#missing[@]})); then
  log "not built yet: ${missing[*]} (run tools/binaries/build.sh)"
  exit 3
fi

resolve etcd "$etcd_key"
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do resolve "$b" "$kube_key"; done
resolve helm "$helm_key"
