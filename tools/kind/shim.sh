#!/usr/bin/env bash
# Stands in for docker, kind, kubectl and helm (by the name it is called as) when
# tools/kind/scripts.test.ts runs up.sh and down.sh on a machine without Docker: it logs each call
# (the folder it ran in, then its arguments, separated by US characters) to $SHIM_LOG and answers
# as the real tool would for the calls the scripts make, keeping what they change in $SHIM_STATE.
set -euo pipefail
name=$(basename -- "$0")
line=$PWD
for arg in "$name" "$@"; do line+=$'\x1f'$arg; done
printf '%s\n' "$line" >>"$SHIM_LOG"
args=" $* "

case $name in
  docker)
    case $1 in
      info) [[ ! -e $SHIM_STATE/docker-down ]] ;;
      image) cat "$SHIM_STATE/image-id" 2>/dev/null || echo sha256:0000000000000000000000000000000000000000000000000000000000000001 ;;
    esac
    ;;
  kind)
    case $args in
      *' get clusters '*) cat "$SHIM_STATE/clusters" 2>/dev/null || true ;;
      *' create cluster '*) shift 2; while [[ $1 != --name ]]; do shift; done; echo "$2" >>"$SHIM_STATE/clusters" ;;
      *' delete cluster '*) shift 2; while [[ $1 != --name ]]; do shift; done; grep -vxF -- "$2" "$SHIM_STATE/clusters" >"$SHIM_STATE/clusters.new" || true; mv "$SHIM_STATE/clusters.new" "$SHIM_STATE/clusters" ;;
    esac
    ;;
  kubectl)
    case $args in
      *' patch configmap local-path-config '*)
        if [[ -e $SHIM_STATE/patched ]]; then echo 'configmap/local-path-config patched (no change)'; else touch "$SHIM_STATE/patched"; echo 'configmap/local-path-config patched'; fi ;;
      *' apply -f examples/ '*)
        # Until the Zorgs are Ready, the tenants' namespaces do not exist.
        if [[ ! -e $SHIM_STATE/zorgs-ready ]]; then echo 'Error from server (NotFound): namespaces "acme-prod" not found' >&2; exit 1; fi ;;
      *' wait --for=condition=Ready zorgs '*) touch "$SHIM_STATE/zorgs-ready" ;;
    esac
    ;;
esac
