#!/usr/bin/env bash
# The heavy toolchains the end-to-end harness needs, built in the background while the static
# checks and the unit tests run (ci/test.sh starts it). On a fresh machine they are most of
# CI's time, and built one after the other they leave a core idle for long stretches (links,
# downloads, waits on BuildKit). Every builder takes its own lock, so the harness, asking for
# one that is still building, waits for it and then finds it warm; warm, each returns at once.
# Progress lines go to stderr as the builders print them; the exit status says whether all
# of them built (a failed one is built again by the harness, which reports why).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
log_prefix=prefetch
# shellcheck source=infra/lib/common.sh
. infra/lib/common.sh

status=0
build() {
  local name=$1 started
  shift
  started=$(date +%s)
  if "$@" >/dev/null; then
    echo "[prefetch] $name ready after $(($(date +%s) - started)) s" >&2
  else
    echo "[prefetch] $name failed after $(($(date +%s) - started)) s; the harness builds it again" >&2
    status=1
  fi
}

# In the order the harness needs them.
build "Pulumi toolchain" bash infra/pulumi-toolchain.sh
build crane bash infra/go-tools.sh crane
build BuildKit bash infra/buildkit-toolchain.sh
if [[ ${PYFLEET_BUILD_CONDA:-1} != 0 ]]; then
  build "conda channel" bash infra/conda-channel/build.sh
fi
# The cluster needs root, as the harness's cluster pass does.
if [[ $(id -u) == 0 && ${PYFLEET_E2E_TARGETS:-render,cluster} == *cluster* ]]; then
  build "cluster parts" bash infra/cluster/build.sh
  build "language host" bash infra/language-host.sh
fi
# Every Go binary is in its cache now; the compile cache they leave (about 17 GiB cold) would
# only crowd the disk the cluster's kubelet watches. Kept when a build failed: the harness,
# building it again, is then still using it.
((status == 0)) && go_cache_trim
exit $status
