# What up.sh and down.sh share, sourced from the repository's root: the names they use, read from
# the files that define them (so that they never disagree with the chart or kind-config.yaml) and
# from the environment. tools/kind/scripts.test.ts checks them against `helm template`.

die() { printf 'kind: %s\n' "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

# The value of a top-level `key: value` line of a YAML file, without quotes or a trailing comment.
top_level() {
  sed -n -E "s/^$1:[[:space:]]*[\"']?([^\"'#[:space:]]*)[\"']?[[:space:]]*(#.*)?\$/\\1/p" "$2" | head -n 1
}

# The value of `image.repository` in the chart's values.yaml.
image_repository() {
  awk '/^image:/ { inside = 1; next }
       inside && /^[^[:space:]#]/ { exit }
       inside && $1 == "repository:" { gsub(/["\047]/, "", $2); print $2; exit }' "$1"
}

# The hostPath of every extraMount in kind-config.yaml, one a line.
config_host_paths() {
  sed -n -E 's/^[[:space:]]*(-[[:space:]]+)?hostPath:[[:space:]]*([^#[:space:]]+).*$/\2/p' kind-config.yaml
}

app_version=$(top_level appVersion deploy/helm/zcsp/Chart.yaml)
[[ -n $app_version ]] || die "deploy/helm/zcsp/Chart.yaml has no appVersion"
chart_repository=$(image_repository deploy/helm/zcsp/values.yaml)
[[ -n $chart_repository ]] || die "deploy/helm/zcsp/values.yaml has no image.repository"
config_name=$(top_level name kind-config.yaml)
[[ -n $config_name ]] || die "kind-config.yaml has no name"

cluster=${ZCSP_KIND_CLUSTER:-$config_name}
context=kind-$cluster
image_repo=${ZCSP_IMAGE_REPO:-$chart_repository}
image_tag=${ZCSP_IMAGE_TAG:-$app_version}
image=$image_repo:$image_tag
# examples/ run the tenant's app on the image the chart runs by default.
examples_image=$chart_repository:$app_version
state_dir=${ZCSP_KIND_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/zcsp/kind-$cluster}
timeout=${ZCSP_KIND_TIMEOUT:-300s}
