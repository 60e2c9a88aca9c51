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

build() {
  local name=$1 started
  shift
  started=$(date +%s)
  if "$@" >/dev/null; then
    echo "[prefetch] $name ready after $(($(date +%s) - started)) s" >&2
  else
    echo "[prefetch] $name failed after $(($(date +%s) - started)) s; the harness builds it again" >&2
    return 1
  fi
}

# Two lanes (and a third once the first ends), each in the order the harness needs its parts:
# the render pass's toolchain, and the cluster's parts (the longest build, needed last). One
# after the other, the cluster parts started half an hour in, although the toolchain and the
# unit tests leave a core idle for long stretches (downloads, links, single-threaded steps).
# Side by side at one priority, the Go builds shared the cores and the render pass started 20
# minutes later than alone. So the cluster lane starts at a lower priority, taking only the
# idle cycles while the render pass's parts build, and is raised to the normal one as soon as
# they are ready.
render_lane() {
  local rc=0
  build "Pulumi toolchain" bash infra/pulumi-toolchain.sh || rc=1
  build crane bash infra/go-tools.sh crane || rc=1
  build BuildKit bash infra/buildkit-toolchain.sh || rc=1
  if [[ ${PYFLEET_BUILD_CONDA:-1} != 0 ]]; then
    build "conda channel" bash infra/conda-channel/build.sh || rc=1
  fi
  return $rc
}
# The supply chain's tools, needed by the render pass's last scenarios only: built while its
# first ones run, at a lower priority than the cluster lane (the longer build).
supply_lane() {
  local rc=0 tool
  renice -n 5 -p "$BASHPID" >/dev/null
  for tool in cosign syft osv-scanner; do
    build "$tool" bash infra/go-tools.sh "$tool" || rc=1
  done
  return $rc
}
# The cluster needs root, as the harness's cluster pass does.
cluster_lane() {
  local rc=0
  renice -n 10 -p "$BASHPID" >/dev/null
  build "cluster parts" bash infra/cluster/build.sh || rc=1
  build "language host" bash infra/language-host.sh || rc=1
  return $rc
}

# renice_tree NICE PID: PID and every process below it (their children inherit it from then).
renice_tree() {
  local pids=() queue=("$2") pid
  while ((${#queue[@]})); do
    pid=${queue[0]}
    queue=("${queue[@]:1}")
    pids+=("$pid")
    # shellcheck disable=SC2207 # pids are plain numbers
    queue+=($(ps -o pid= --ppid "$pid"))
  done
  renice -n "$1" -p "${pids[@]}" >/dev/null 2>&1 || true
}

status=0
render_lane &
render_pid=$!
cluster_pid=
if [[ $(id -u) == 0 && ${PYFLEET_E2E_TARGETS:-render,cluster} == *cluster* ]]; then
  cluster_lane &
  cluster_pid=$!
fi
wait "$render_pid" || status=1
supply_lane &
supply_pid=$!
if [[ -n $cluster_pid ]]; then
  # The render pass can start: from here on the cluster lane gets its share of every core.
  renice_tree 0 "$cluster_pid"
  echo "[prefetch] render pass parts done; the cluster lane now runs at normal priority" >&2
fi
wait "$supply_pid" || status=1
[[ -z $cluster_pid ]] || wait "$cluster_pid" || status=1
# Every Go binary is in its cache now; the compile cache they leave (about 17 GiB cold) would
# only crowd the disk the cluster's kubelet watches. Kept when a build failed: the harness,
# building it again, is then still using it.
((status == 0)) && go_cache_trim
exit $status
