#!/usr/bin/env bash
# zcsp on kind, for a machine with Docker (npm run kind:up): builds the image, creates the cluster
# of kind-config.yaml (two sites of two workers), loads the image into its nodes, gives it the
# zcsp-local StorageClass, installs the chart and applies examples/. Run it again after changing
# the code: each step converges on what it makes, and a rebuilt image rolls the operator's pods.
#
#   tools/kind/up.sh                 bring it up
#   tools/kind/up.sh --print-config  print the cluster, context, image and state folder it uses
#
# Environment:
#   ZCSP_KIND_CLUSTER    the cluster's name (default: kind-config.yaml's, zcsp)
#   ZCSP_IMAGE_REPO      the image's repository (default: the chart's, ghcr.io/zcsp/zcsp)
#   ZCSP_IMAGE_TAG       the image's tag (default: the chart's appVersion)
#   ZCSP_KIND_STATE_DIR  where the nodes' volumes live on this machine
#                        (default: ${XDG_STATE_HOME:-~/.local/state}/zcsp/kind-<cluster>)
#   ZCSP_KIND_TIMEOUT    how long the install and each wait may take (default 300s)
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=tools/kind/config.sh
source tools/kind/config.sh

if [[ ${1:-} == --print-config ]]; then
  printf 'cluster=%s\ncontext=%s\nimage=%s\nexamples_image=%s\nstate_dir=%s\n' \
    "$cluster" "$context" "$image" "$examples_image" "$state_dir"
  exit 0
fi
[[ $# -eq 0 ]] || die "unknown argument \"$1\" (the only option is --print-config)"

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (install: $2)"); }
need docker "https://docs.docker.com/get-docker/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation, v0.31.0 or later"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need helm "https://helm.sh/docs/intro/install/"
if ((${#missing[@]} > 0)); then
  printf 'kind:up: not found on PATH:\n' >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer (docker info failed): start Docker and run this again"

# Every kubectl and helm call names the cluster's context: whatever the current context is, only
# the kind cluster is touched.
k() { kubectl --context "$context" "$@"; }

step "building $image"
docker build --tag "$image" .
image_id=$(docker image inspect --format '{{.Id}}' "$image")
images=("$image")
if [[ $image != "$examples_image" ]]; then
  # examples/ run their tenant app on the chart's default image: make it this build too.
  docker tag "$image" "$examples_image"
  images+=("$examples_image")
fi

step "kind cluster $cluster"
if kind get clusters 2>/dev/null | grep -qxF -- "$cluster"; then
  echo "exists: kept as it is (tools/kind/down.sh deletes it)"
else
  # kind takes kind-config.yaml's relative host paths from the folder it runs in: the nodes'
  # volumes go to the state folder, made here so that they belong to you, not to the Docker daemon.
  mkdir -p -- "$state_dir"
  while IFS= read -r dir; do mkdir -p -- "$state_dir/$dir"; done < <(config_host_paths)
  (cd "$state_dir" && kind create cluster --name "$cluster" --config "$root/kind-config.yaml" --wait 120s)
fi

step "loading ${images[*]} into the nodes"
kind load docker-image --name "$cluster" "${images[@]}"

step "StorageClass zcsp-local (volumes under /var/lib/zcsp-local-pv of each node)"
patched=$(k -n local-path-storage patch configmap local-path-config --type merge --patch-file tools/kind/local-path-config.yaml) \
  || die "could not configure kind's local-path provisioner (ConfigMap local-path-storage/local-path-config): is this a cluster of kind v0.31.0 or later?"
echo "$patched"
if [[ $patched != *"(no change)"* ]]; then
  # The provisioner reads its config when it starts: a restart applies it now rather than once
  # the ConfigMap's new content has reached the pod.
  k -n local-path-storage rollout restart deployment/local-path-provisioner
  k -n local-path-storage rollout status deployment/local-path-provisioner --timeout "$timeout"
fi
k apply -f tools/kind/storage.yaml
k annotate storageclass standard storageclass.kubernetes.io/is-default-class=false --overwrite

step "helm upgrade --install zcsp deploy/helm/zcsp"
# The image id as a pod annotation: the same build leaves the pods alone, a new one rolls them.
helm --kube-context "$context" upgrade --install zcsp deploy/helm/zcsp \
  --namespace zcsp-system --create-namespace --wait --timeout "$timeout" \
  --set "image.repository=$image_repo" --set-string "image.tag=$image_tag" \
  --set-string "podAnnotations.zcsp\.io/image-id=$image_id"
k apply -f tools/kind/console-admin.yaml

step "examples/"
if out=$(k apply -f examples/ 2>&1); then
  echo "$out"
else
  # A tenant's objects live in namespaces its Zorg creates: wait for the Zorgs, then apply again.
  echo "waiting for the Zorgs to be Ready (they create the tenants' namespaces)"
  k wait --for=condition=Ready zorgs --all --timeout "$timeout"
  k apply -f examples/
fi

cat <<EOF

zcsp is up on the kind cluster $cluster (kubectl context $context).
  the VPG until it meets its SLA:  kubectl --context $context get vpg -A -w
  the VRAs of the sites:           kubectl --context $context -n zcsp-system get pods -o wide
  the console:                     kubectl --context $context -n zcsp-system port-forward svc/zcsp-console 8080:80
    then open http://localhost:8080 and sign in with the token of
                                   kubectl --context $context -n zcsp-system create token console-admin
  tear it down:                    npm run kind:down
EOF
