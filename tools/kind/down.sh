#!/usr/bin/env bash
# Deletes the kind cluster of up.sh (npm run kind:down) and its state folder, which holds the
# nodes' volumes: with the cluster gone, no PersistentVolume refers to them any more.
#
#   tools/kind/down.sh                 delete the cluster and its volumes
#   tools/kind/down.sh --keep-volumes  delete the cluster only
#
# Environment: ZCSP_KIND_CLUSTER and ZCSP_KIND_STATE_DIR, as for up.sh.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=tools/kind/config.sh
source tools/kind/config.sh

keep=false
case ${1:-} in
  '') ;;
  --keep-volumes) keep=true ;;
  *) die "unknown argument \"$1\" (the only option is --keep-volumes)" ;;
esac

command -v kind >/dev/null 2>&1 || die "kind not found on PATH (install: https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"

if kind get clusters 2>/dev/null | grep -qxF -- "$cluster"; then
  kind delete cluster --name "$cluster"
else
  echo "no kind cluster $cluster: nothing to delete"
fi

if [[ $keep == false && -e $state_dir ]]; then
  # Pods wrote some of these files as root: without the rights to remove them, say how.
  rm -rf -- "$state_dir" 2>/dev/null || die "could not remove every file of $state_dir (pods wrote some as root): sudo rm -rf '$state_dir'"
  echo "removed $state_dir"
fi
