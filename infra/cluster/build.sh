#!/usr/bin/env bash
# Build the parts of a k3s-shaped cluster from the Go module proxy (ordinary `go`
# client) and Debian packages, once, into a cache outside the repository keyed
# by each part's version. A warm part returns at once.
#
# Usage:
#   infra/cluster/build.sh [PART...]            build the parts (default: all); last
#                                               stdout line = the cache root
#   infra/cluster/build.sh --check [PART...]    exit 0 if every part is warm, 1 if not
#   infra/cluster/build.sh --print-versions     print parts, versions and cache dirs
#   infra/cluster/build.sh --bin PART           print the bin dir of PART (warm or not)
#   Errors exit 2 (a module the proxy lacks, a failed compile; the log is named).
#
# Parts (PART = the name in the first column):
#   kubernetes  kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#               kube-proxy, kubectl from k8s.io/kubernetes, in a wrapper module that
#               replaces each staging module with its published twin (k8s.io/api
#               v0.X.Y for kubernetes v1.X.Y): the module's own go.mod points them
#               at ./staging, which its zip does not hold.
#   etcd        go.etcd.io/etcd/server/v3, the version kubernetes' go.mod requires.
#   traefik     github.com/traefik/traefik/v3 ./cmd/traefik (k3s' ingress controller).
#   local-path  github.com/rancher/local-path-provisioner (k3s' storage class).
#   metrics     sigs.k8s.io/metrics-server ./cmd/metrics-server.
#   coredns     github.com/coredns/coredns, the version kubernetes ships (build/dependencies.yaml).
#   kube-router github.com/cloudnativelabs/kube-router/v2 ./cmd/kube-router; k3s embeds
#               its NetworkPolicy controller, here it runs alone (--run-firewall only).
#   pause       the sandbox image's /pause, compiled with `gcc -static` from the
#               kubernetes module's build/pause/linux/pause.c.
#   debian      containerd, runc, CNI plugins, iptables, ipset, socat from Debian
#               (apt-get install when missing; not cached here).
#
# k3s itself (github.com/k3s-io/k3s) is not served by the Go module proxy (`go
# list -m -versions` answers "This module version is not available."), hence
# the parts one by one.
#
# Each long step reports, at least every 20 s, the part, the time elapsed and the
# expected total from the last recorded build of that part (<cache>/timings/).
# Compiler output goes to <cache>/logs/<part>.log.
#
# Environment:
#   PYFLEET_CLUSTER_CACHE   cache root (default: $HOME/.cache/pyfleet/cluster)
#   PYFLEET_GOSUMDB         GOSUMDB for the builds (default: off, as the checksum
#                           database is not reachable here; downloads are checked
#                           against the upstream go.sum files)
#   PYFLEET_BUILD_PROGRESS  seconds between progress lines (default: 20)
set -euo pipefail

readonly RECIPE=1 # bump when a build recipe changes, to start fresh cache keys

readonly KUBERNETES_VERSION=v1.37.2
# Traefik v3.7.x (v3.7.11 to v3.7.13) does not build from the proxy: it answers
# "This module version is not available." for 16 of its dependencies (lego v5's
# DNS provider SDKs, containous/go-http-auth's 2026 commit, and the nested
# module traefik/dynamic/ext its go.mod takes from a directory). v3.6.12 is the
# newest v3 release whose dependencies the proxy serves.
readonly TRAEFIK_VERSION=v3.6.12
readonly LOCAL_PATH_VERSION=v0.0.30
readonly METRICS_SERVER_VERSION=v0.8.0
readonly KUBE_ROUTER_VERSION=v2.1.0
readonly ALL_PARTS=(kubernetes etcd traefik local-path metrics coredns kube-router pause debian)
readonly DEBIAN_PACKAGES=(containerd runc containernetworking-plugins iptables ipset socat gcc libc6-dev busybox-static openssl)

cache_root=${PYFLEET_CLUSTER_CACHE:-$HOME/.cache/pyfleet/cluster}
progress_every=${PYFLEET_BUILD_PROGRESS:-20}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log_prefix=cluster-build
# shellcheck source=infra/lib/common.sh
. "$script_dir/../lib/common.sh"

mode=build
case "${1:-}" in
--check)
  mode=check
  shift
  ;;
--print-versions)
  mode=versions
  shift
  ;;
--bin)
  mode=bin
  shift
  ;;
-*) help_or_unknown "$1" ;;
esac
parts=("$@")
((${#parts[@]})) || parts=("${ALL_PARTS[@]}")
for p in "${parts[@]}"; do
  [[ " ${ALL_PARTS[*]} " == *" $p "* ]] || die "unknown part '$p'; parts are: ${ALL_PARTS[*]}"
done

command -v go >/dev/null || die "go is required (go >= 1.26)"
go_build_env
{ read -r go_version; read -r go_os; read -r go_arch; } < <(go env GOVERSION GOOS GOARCH)
platform="${go_version}_${go_os}-${go_arch}_r${RECIPE}"

kubernetes_dir() {
  local d
  d=$(go_mod_field "k8s.io/kubernetes@$KUBERNETES_VERSION" Dir) || d=
  [[ -n $d && -d $d ]] || die "cannot download k8s.io/kubernetes@$KUBERNETES_VERSION from the Go module proxy"
  echo "$d"
}

# The version of a part: fixed above, or read from the kubernetes module so the
# parts match the release they run with.
part_version() {
  case $1 in
  kubernetes) echo "$KUBERNETES_VERSION" ;;
  etcd) go_required_version "$(kubernetes_dir)/go.mod" go.etcd.io/etcd/server/v3 ;;
  traefik) echo "$TRAEFIK_VERSION" ;;
  local-path) echo "$LOCAL_PATH_VERSION" ;;
  metrics) echo "$METRICS_SERVER_VERSION" ;;
  coredns)
    # build/dependencies.yaml: "- name: coredns-kube-up" then "version: 1.14.6"
    awk '/name: "coredns-kube-up"/ { f = 1; next } f && /version:/ { print "v" $2; exit }' \
      "$(kubernetes_dir)/build/dependencies.yaml"
    ;;
  kube-router) echo "$KUBE_ROUTER_VERSION" ;;
  pause) echo "$KUBERNETES_VERSION" ;;
  debian) echo apt ;;
  esac
}

part_binaries() {
  case $1 in
  kubernetes) echo kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl ;;
  etcd) echo etcd ;;
  traefik) echo traefik ;;
  local-path) echo local-path-provisioner ;;
  metrics) echo metrics-server ;;
  coredns) echo coredns ;;
  kube-router) echo kube-router ;;
  pause) echo pause ;;
  debian) echo containerd runc ;;
  esac
}

part_dir() { echo "$cache_root/$1-$2_$platform"; }

part_bin() {
  if [[ $1 == debian ]]; then
    echo /usr/bin
  else
    echo "$(part_dir "$1" "$2")/bin"
  fi
}

is_warm() { # PART VERSION
  local b bin
  bin=$(part_bin "$1" "$2")
  if [[ $1 == debian ]]; then
    for b in containerd runc ctr socat iptables ipset gcc busybox openssl; do command -v "$b" >/dev/null || return 1; done
    [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || return 1
    return 0
  fi
  [[ -f $(part_dir "$1" "$2")/complete ]] || return 1
  for b in $(part_binaries "$1"); do [[ -x $bin/$b ]] || return 1; done
}

# --- progress -----------------------------------------------------------------
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# with_progress PART LOG CMD...: run CMD with its output in LOG, printing a line
# every $progress_every s with the elapsed time and the last recorded total.
with_progress() {
  local part=$1 logf=$2 start pid last expect rc=0 now
  shift 2
  mkdir -p "$(dirname "$logf")" "$cache_root/timings"
  last=$(cat "$cache_root/timings/$part" 2>/dev/null || true)
  if [[ -n $last ]]; then expect="expected total $(fmt_secs "$last") (last build)"; else expect="no build recorded yet"; fi
  log "$part: building ($expect); log: $logf"
  start=$(date +%s)
  "$@" >"$logf" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    # sleep in 1 s steps so a finished build is noticed at once
    for ((i = 0; i < progress_every; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      now=$(date +%s)
      log "$part: still building, $(fmt_secs $((now - start))) elapsed, $expect"
    fi
  done
  wait "$pid" || rc=$?
  now=$(date +%s)
  if ((rc != 0)); then
    tail -n 30 "$logf" >&2
    die "$part: build failed after $(fmt_secs $((now - start))) (exit $rc); full log: $logf"
  fi
  echo $((now - start)) >"$cache_root/timings/$part"
  log "$part: built in $(fmt_secs $((now - start)))"
}

# --- wrapper modules ---------------------------------------------------------
work_root=
cleanup() { if [[ -n $work_root ]]; then chmod -R u+w "$work_root" 2>/dev/null || true; rm -rf "$work_root"; fi; }
trap cleanup EXIT

# new_wrapper NAME MODULE@VERSION: a throw-away main module requiring MODULE, with
# its go.sum and its module-to-module replace and exclude directives restated
# (they apply only in a main module). Prints the wrapper dir; sets nothing global.
new_wrapper() {
  local name=$1 mv=$2 w mdir
  w="$work_root/$name"
  mkdir -p "$w"
  mdir=$(go_mod_field "$mv" Dir) || mdir=
  [[ -n $mdir && -d $mdir ]] || die "$name: cannot download $mv from the Go module proxy"
  printf 'module pyfleet.local/cluster/%s\n\ngo %s\n' "$name" "${go_version#go}" >"$w/go.mod"
  (cd "$w" && go mod edit -require="$mv")
  if [[ -f $mdir/go.sum ]]; then cp "$mdir/go.sum" "$w/go.sum"; fi
  local r
  while IFS= read -r r; do
    [[ -n $r ]] && (cd "$w" && go mod edit "$r")
  done < <(go mod edit -json "$mdir/go.mod" | python3 -c '
import json, sys
j = json.load(sys.stdin)
for r in j.get("Replace") or []:
    if not r["New"].get("Version"):
        continue
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    print("-replace=%s=%s@%s" % (old, r["New"]["Path"], r["New"]["Version"]))
for e in j.get("Exclude") or []:
    print("-exclude=%s@%s" % (e["Path"], e["Version"]))
')
  echo "$w"
}

# --- parts --------------------------------------------------------------------
build_kubernetes() {
  local version=$1 bin=$2 kdir w minor staging
  kdir=$(kubernetes_dir)
  w=$(new_wrapper kubernetes "k8s.io/kubernetes@$version")
  minor=${version#v1.}
  # Every ./staging replace becomes the published module of the same release;
  # sample-cli-plugin and sample-controller are not served and not needed.
  for staging in $(go mod edit -json "$kdir/go.mod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        print(r["Old"]["Path"])'); do
    case $staging in k8s.io/sample-cli-plugin | k8s.io/sample-controller) continue ;; esac
    (cd "$w" && go mod edit -replace="$staging=$staging@v0.$minor")
  done
  local ld="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    ld="$ld -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  cp "$kdir/go.sum" "$w/go.sum"
  (cd "$w" && go build -trimpath -ldflags "$ld" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl)
}

# build_go NAME MODULE@VERSION BINARY PACKAGE [LDFLAGS]
build_go() {
  local name=$1 mv=$2 binary=$3 pkg=$4 ld=${5:-} bin=$6 w
  w=$(new_wrapper "$name" "$mv")
  (cd "$w" && go build -trimpath -ldflags "-s -w $ld" -o "$bin/$binary" "$pkg")
}

build_etcd() {
  build_go etcd "go.etcd.io/etcd/server/v3@$1" etcd go.etcd.io/etcd/server/v3 \
    "" "$2"
}

build_traefik() {
  build_go traefik "github.com/traefik/traefik/v3@$1" traefik github.com/traefik/traefik/v3/cmd/traefik \
    "-X github.com/traefik/traefik/v3/pkg/version.Version=$1" "$2"
}

build_local-path() {
  build_go local-path "github.com/rancher/local-path-provisioner@$1" local-path-provisioner \
    github.com/rancher/local-path-provisioner "-X main.VERSION=$1" "$2"
}

build_metrics() {
  build_go metrics "sigs.k8s.io/metrics-server@$1" metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server \
    "-X sigs.k8s.io/metrics-server/pkg/version.gitVersion=$1" "$2"
}

build_coredns() {
  build_go coredns "github.com/coredns/coredns@$1" coredns github.com/coredns/coredns \
    "-X github.com/coredns/coredns/coremain.GitCommit=$1" "$2"
}

build_kube-router() {
  build_go kube-router "github.com/cloudnativelabs/kube-router/v2@$1" kube-router \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router \
    "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$1" "$2"
}

build_pause() {
  local bin=$2 src
  src="$(kubernetes_dir)/build/pause/linux/pause.c"
  [[ -f $src ]] || die "pause: $src not found"
  command -v gcc >/dev/null || die "pause: gcc is required (part debian installs it)"
  gcc -Os -Wall -Werror -static -DVERSION="$1" -o "$bin/pause" "$src"
  strip "$bin/pause"
}

build_debian() {
  local missing=() p
  for p in "${DEBIAN_PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == *'install ok installed'* ]] || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "debian: apt-get install ${missing[*]}"
  apt-get "${APT_WAIT[@]}" update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
  # Debian starts containerd as a service on install; the cluster runs its own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
    systemctl disable --now containerd >&2 || true
  fi
}

# --- main -----------------------------------------------------------------------
if [[ $mode == versions ]]; then
  for p in "${parts[@]}"; do
    v=$(part_version "$p")
    printf '%s %s %s %s\n' "$p" "$v" "$(part_bin "$p" "$v")" "$(is_warm "$p" "$v" && echo warm || echo cold)"
  done
  exit 0
fi
if [[ $mode == bin ]]; then
  ((${#parts[@]} == 1)) || die "--bin takes one part"
  part_bin "${parts[0]}" "$(part_version "${parts[0]}")"
  exit 0
fi
if [[ $mode == check ]]; then
  rc=0
  for p in "${parts[@]}"; do
    v=$(part_version "$p")
    if is_warm "$p" "$v"; then log "$p $v: warm"; else
      log "$p $v: cold"
      rc=1
    fi
  done
  exit $rc
fi

work_root=$(mktemp -d "${TMPDIR:-/tmp}/cluster-build.XXXXXX")
total_start=$(date +%s)
# Debian first: pause needs gcc, and its install is quick.
ordered=()
for p in "${parts[@]}"; do [[ $p == debian ]] && ordered+=(debian); done
for p in "${parts[@]}"; do [[ $p != debian ]] && ordered+=("$p"); done
for p in "${ordered[@]}"; do
  v=$(part_version "$p")
  [[ -n $v ]] || die "$p: cannot determine its version"
  if is_warm "$p" "$v"; then
    log "$p $v: warm ($(part_bin "$p" "$v"))"
    continue
  fi
  if [[ $p == debian ]]; then
    build_debian
    is_warm debian apt || die "debian: packages installed but a binary is missing (${DEBIAN_PACKAGES[*]})"
    continue
  fi
  d=$(part_dir "$p" "$v")
  mkdir -p "$d/bin"
  exec 9>"$d/.lock"
  flock 9 # one builder per part and version; a second caller waits, then finds it warm
  if ! is_warm "$p" "$v"; then
    with_progress "$p" "$cache_root/logs/$p.log" "build_$p" "$v" "$d/bin"
    echo "$p $v $go_version $go_os-$go_arch recipe $RECIPE" >"$d/versions.txt"
    touch "$d/complete"
  fi
  exec 9>&-
done
log "all parts ready in $(fmt_secs $(($(date +%s) - total_start)))"
echo "$cache_root"
