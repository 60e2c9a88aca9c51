#!/usr/bin/env bash
# A local Docker engine with BuildKit, an image registry, the base images the
# example apps build on and a current BuildKit daemon for the docker-build Pulumi
# provider, all on loopback, from Debian packages and the Go module proxy.
# Idempotent: a second `start` reuses what runs and what was built.
#
# Usage:
#   infra/local-infra.sh start  [--state-dir DIR]   install, start, make base images;
#                                                     last stdout lines = export lines
#   infra/local-infra.sh stop   [--state-dir DIR]   stop buildkitd, the registry and dockerd (data stays)
#   infra/local-infra.sh status [--state-dir DIR]   print what runs
#   infra/local-infra.sh env    [--state-dir DIR]   print the export lines (exit 1 if not running)
#
#   eval "$(infra/local-infra.sh start)"
#   # DOCKER_HOST, PYFLEET_REGISTRY, PYFLEET_BASE_PYTHON, PYFLEET_BASE_DEBIAN, PYFLEET_DOCKER,
#   # DOCKER_CONFIG, PYFLEET_BUILDER, PYFLEET_BUILDKIT_HOST, PYFLEET_BUILDCTL
#
# What `start` does (as root):
#   1. apt-get install docker.io docker-registry debootstrap when missing.
#   2. Debian's dockerd (20.10, BuildKit inside) on unix://<state>/docker.sock with
#      --bridge=none --iptables=false --ip-masq=false: no network of its own, so
#      builds and containers use host networking (`--network host`). dockerd runs
#      its own containerd as a child (sockets and pid under <state>/exec). Its
#      registry traffic goes through a closed loopback proxy (PYFLEET_DOCKERD_PROXY):
#      only loopback registries answer, nothing is pulled from the internet.
#   3. Debian's registry 2.8 on 127.0.0.1:<port>, storage in <state>/registry.
#   4. Base images made with debootstrap from the Debian mirror in the machine's apt
#      sources (never pulled from a public registry), pushed to the local registry:
#        <registry>/base/python:3.11-bookworm   minbase + python3, venv, pip, ca-certificates
#        <registry>/base/debian:bookworm-slim   minbase
#      A tag that the registry already holds is not rebuilt.
#   5. buildkitd and buildctl built from the Go module proxy by
#      infra/buildkit-toolchain.sh (the BuildKit version the docker-build provider
#      is built with, cached by version), run as root on unix://<state>/buildkitd.sock:
#      OCI worker on Debian's runc (package docker.io), containerd worker off,
#      host networking for RUN steps (--oci-worker-net=host: no CNI, no bridge),
#      entitlement network.host allowed, snapshotter PYFLEET_BUILDKIT_SNAPSHOTTER
#      (default auto: overlayfs where the kernel and file system allow it, else
#      native), state in <state>/buildkit, config <state>/buildkitd.toml (the local
#      registry is plain HTTP), the same proxy guard as dockerd. dockerd 20.10's
#      own BuildKit cannot push from a buildx client nor export registry cache.
#      Needs `go` (and node for the version lookup); the first build of BuildKit
#      v0.31.0 took about 130 s on 2 cores. Seen here (root, cgroup v1, ext4):
#      overlayfs works; runc puts build steps in /sys/fs/cgroup/<controller>/buildkit.
#      RUN steps use the host network whatever the build's network mode;
#      `network: "host"` (docker-build) needs the network.host entitlement.
#   6. A buildx builder instance `pyfleet` (remote driver, that socket) in
#      <state>/docker-config, the file `docker buildx create --name pyfleet --driver
#      remote unix://<state>/buildkitd.sock` writes. The docker-build provider uses it
#      with DOCKER_CONFIG=<state>/docker-config and `builder: { name: "pyfleet" }`
#      (its own config dir: the provider writes builder state there, not to ~/.docker).
#
# Use Debian's docker client ($PYFLEET_DOCKER, /usr/bin/docker) against this daemon:
# newer clients refuse BuildKit builds without the buildx plugin.
#
# Environment:
#   PYFLEET_INFRA_DIR       state directory (default: $HOME/.cache/pyfleet/infra)
#   PYFLEET_REGISTRY_PORT   registry port on 127.0.0.1 (default: 5000)
#   PYFLEET_DEBIAN_MIRROR   Debian mirror for debootstrap (default: from the apt sources)
#   PYFLEET_INFRA_TIMEOUT   seconds to wait for a daemon to answer or exit (default: 60)
#   PYFLEET_DOCKERD_PROXY   HTTP(S) proxy for the registry traffic of dockerd and
#                           buildkitd (default: http://127.0.0.1:9, a closed port:
#                           only loopback registries work; set it empty to let them
#                           reach others). Build steps do not inherit it.
#   PYFLEET_BUILDKIT_SNAPSHOTTER  buildkitd's OCI worker snapshotter: auto (default),
#                           overlayfs or native
#   PYFLEET_BUILDKIT_VERSION, PYFLEET_TOOLS_CACHE: see infra/buildkit-toolchain.sh
set -euo pipefail

readonly SUITE=bookworm
readonly PYTHON_TAG=3.11-bookworm
readonly DEBIAN_TAG=bookworm-slim
readonly PACKAGES=(docker.io docker-registry debootstrap)
readonly DOCKER_CLI=/usr/bin/docker # Debian's 20.10 client (docker.io)
readonly REGISTRY_BIN=/usr/bin/docker-registry
readonly BUILDER_NAME=pyfleet # buildx builder instance for the docker-build provider
readonly MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log_prefix=local-infra
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

# --- arguments ----------------------------------------------------------------
need_command "$@"
shift
state=${PYFLEET_INFRA_DIR:-$HOME/.cache/pyfleet/infra}
parse_state_dir "$@"
case $cmd in
start | stop | status | env) ;;
-h | --help | help)
  usage
  exit 0
  ;;
*)
  usage
  die "unknown command: $cmd"
  ;;
esac

port=${PYFLEET_REGISTRY_PORT:-5000}
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
  die "PYFLEET_REGISTRY_PORT must be a port number, not '$port'"
fi
timeout_s=${PYFLEET_INFRA_TIMEOUT:-60}
dockerd_proxy=${PYFLEET_DOCKERD_PROXY-http://127.0.0.1:9}
[[ $timeout_s =~ ^[0-9]+$ ]] || die "PYFLEET_INFRA_TIMEOUT must be a number of seconds"
bk_snapshotter=${PYFLEET_BUILDKIT_SNAPSHOTTER:-auto}
case $bk_snapshotter in
auto | overlayfs | native) ;;
*) die "PYFLEET_BUILDKIT_SNAPSHOTTER must be auto, overlayfs or native, not '$bk_snapshotter'" ;;
esac

if [[ $cmd == start ]]; then
  mkdir -p "$state"
fi
if [[ -d $state ]]; then
  state=$(cd "$state" && pwd)
fi
sock=$state/docker.sock
registry_dir=$state/registry
registry_cfg=$state/registry.yml
registry_pidfile=$state/registry.pid
registry_portfile=$state/registry.port
dockerd_pidfile=$state/dockerd.pid
exec_root=$state/exec
containerd_pidfile=$exec_root/containerd/containerd.pid # dockerd's own containerd child
bk_sock=$state/buildkitd.sock
bk_root=$state/buildkit
bk_otel_sock=$bk_root/otel-grpc.sock # else buildkitd makes /run/buildkit/otel-grpc.sock
bk_cfg=$state/buildkitd.toml
bk_pidfile=$state/buildkitd.pid
bk_binfile=$state/buildkitd.bin # bin dir of the running buildkitd and buildctl
docker_config=$state/docker-config

# A unix socket path must fit in sockaddr_un.sun_path (108 bytes).
((${#bk_otel_sock} < 100)) || die "state dir path too long for a unix socket: $bk_otel_sock (use --state-dir with a shorter path)"

elapsed() { echo $(($(date +%s) - $1))s; }

dockerd_bin() {
  local b
  for b in /usr/sbin/dockerd /usr/bin/dockerd; do
    [[ -x $b ]] && {
      echo "$b"
      return 0
    }
  done
  return 1
}

# live_pid PIDFILE COMM: print the pid from PIDFILE if that process lives, has
# the command name COMM and was started for this state dir (guards against a
# recycled pid).
live_pid() {
  local pidfile=$1 comm=$2 pid cmdline
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == "$comm" ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$state"* ]] || return 1
  echo "$pid"
}

docker_cli() { DOCKER_HOST=unix://$sock DOCKER_BUILDKIT=1 "$DOCKER_CLI" "$@"; }

docker_answers() {
  [[ -S $sock && -x $DOCKER_CLI ]] || return 1
  timeout 10 env DOCKER_HOST="unix://$sock" "$DOCKER_CLI" info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

registry_answers() { # PORT
  curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$1/v2/" 2>/dev/null
}

port_in_use() { # PORT: something accepts connections on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# registry_has REPO TAG: the local registry holds REPO:TAG
registry_has() {
  curl -fsS -o /dev/null --max-time 10 -I -H "Accept: $MANIFEST_ACCEPT" \
    "http://127.0.0.1:$port/v2/$1/manifests/$2" 2>/dev/null
}

registry_digest() { # REPO TAG
  curl -fsS --max-time 10 -I -H "Accept: $MANIFEST_ACCEPT" "http://127.0.0.1:$port/v2/$1/manifests/$2" 2>/dev/null |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

running_port() { # port of the running registry of this state dir
  [[ -s $registry_portfile ]] && cat "$registry_portfile"
}

print_env() { # PORT
  local reg=127.0.0.1:$1 bk_bin
  bk_bin=$(cat "$bk_binfile" 2>/dev/null || true)
  printf 'export %s=%q\n' \
    DOCKER_HOST "unix://$sock" \
    PYFLEET_REGISTRY "$reg" \
    PYFLEET_BASE_PYTHON "$reg/base/python:$PYTHON_TAG" \
    PYFLEET_BASE_DEBIAN "$reg/base/debian:$DEBIAN_TAG" \
    PYFLEET_DOCKER "$DOCKER_CLI" \
    DOCKER_CONFIG "$docker_config" \
    PYFLEET_BUILDER "$BUILDER_NAME" \
    PYFLEET_BUILDKIT_HOST "unix://$bk_sock" \
    PYFLEET_BUILDCTL "$bk_bin/buildctl"
}

# buildkitd_answers: buildkitd of this state dir answers on its socket
buildkitd_answers() {
  local bk_bin
  bk_bin=$(cat "$bk_binfile" 2>/dev/null) || return 1
  [[ -S $bk_sock && -x $bk_bin/buildctl ]] || return 1
  timeout 10 "$bk_bin/buildctl" --addr "unix://$bk_sock" debug workers >/dev/null 2>&1
}

# proxy_env: fill the array `envs` with the proxy guard for a daemon's registry
# traffic (see PYFLEET_DOCKERD_PROXY)
proxy_env() {
  local no_proxy_list='127.0.0.1,localhost,::1'
  envs=()
  if [[ -n $dockerd_proxy ]]; then
    envs=(HTTP_PROXY="$dockerd_proxy" HTTPS_PROXY="$dockerd_proxy" NO_PROXY="$no_proxy_list"
      http_proxy="$dockerd_proxy" https_proxy="$dockerd_proxy" no_proxy="$no_proxy_list")
  fi
}

# wait_exit PID NAME: wait (bounded) for PID to exit; SIGKILL after the timeout
wait_exit() {
  local pid=$1 name=$2 i
  for ((i = 0; i < timeout_s * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  log "$name (pid $pid) did not exit within ${timeout_s}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
  ! kill -0 "$pid" 2>/dev/null
}

# stop_pid PIDFILE COMM NAME
stop_pid() {
  local pidfile=$1 comm=$2 name=$3 pid
  if pid=$(live_pid "$pidfile" "$comm"); then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_exit "$pid" "$name" || die "$name (pid $pid) is still running"
  fi
  rm -f "$pidfile"
}

# --- the Debian mirror ----------------------------------------------------------
# First `deb` source of suite $SUITE (not a security or updates suite) in the apt
# sources, one-line (*.list) or deb822 (*.sources) format.
debian_mirror() {
  if [[ -n ${PYFLEET_DEBIAN_MIRROR:-} ]]; then
    echo "$PYFLEET_DEBIAN_MIRROR"
    return 0
  fi
  local f uri
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  for f in "${files[@]}"; do
    [[ -r $f ]] || continue
    if [[ $f == *.sources ]]; then
      uri=$(awk -v suite="$SUITE" '
        function flush() {
          if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " ") && uris != "") {
            split(uris, u, " "); print u[1]; found = 1; exit
          }
          types = ""; uris = ""; suites = ""; enabled = ""; key = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ { if (key == "uris") uris = uris " " $0; else if (key == "suites") suites = suites " " $0; next }
        {
          key = tolower($0); sub(/:.*/, "", key)
          val = $0; sub(/^[^:]*:[ \t]*/, "", val)
          if (key == "types") types = val
          else if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "enabled") enabled = tolower(val)
        }
        END { if (!found) flush() }' "$f")
    else
      uri=$(awk -v suite="$SUITE" '
        $1 == "deb" {
          i = 2
          if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
          if ($(i + 1) == suite) { print $i; exit }
        }' "$f")
    fi
    if [[ -n $uri ]]; then
      echo "$uri"
      return 0
    fi
  done
  return 1
}

# --- steps of `start` -------------------------------------------------------------
install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local t0
  t0=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  local candidates
  candidates=$(apt-cache policy "${missing[@]}" 2>/dev/null || true)
  if [[ -z $candidates || $candidates == *'Candidate: (none)'* ]]; then
    log "apt-get update"
    apt-get "${APT_WAIT[@]}" update -qq >&2
  fi
  # Package scripts must not start system-wide daemons (dockerd's default config
  # would create a bridge network): forbid service starts during the install.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  log "apt-get install ${missing[*]}"
  if ! apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    log "install failed; retrying after apt-get update"
    apt-get "${APT_WAIT[@]}" update -qq >&2
    apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
      [[ -n $made_policy ]] && rm -f "$policy"
      die "apt-get install ${missing[*]} failed"
    }
  fi
  [[ -n $made_policy ]] && rm -f "$policy"
  log "installed ${missing[*]} in $(elapsed "$t0")"
}

start_dockerd() {
  local pid bin t0 i
  if pid=$(live_pid "$dockerd_pidfile" dockerd); then
    if docker_answers; then
      log "dockerd already runs (pid $pid)"
      return 0
    fi
    die "dockerd (pid $pid) runs but does not answer on $sock; see $state/dockerd.log, or run '$0 stop --state-dir $state'"
  fi
  bin=$(dockerd_bin) || die "dockerd not found (package docker.io)"
  # A stale pid file or socket from a killed daemon would make dockerd refuse to start.
  rm -f "$dockerd_pidfile" "$sock"
  # dockerd's own containerd child may outlive a killed dockerd: stop it first.
  stop_pid "$containerd_pidfile" containerd containerd
  mkdir -p "$state/docker" "$exec_root"
  # Our own (near-empty) config file, so /etc/docker/daemon.json does not apply.
  printf '{\n  "features": { "buildkit": true }\n}\n' >"$state/daemon.json"
  local args=(
    --config-file "$state/daemon.json"
    --host "unix://$sock"
    --data-root "$state/docker"
    --exec-root "$exec_root"
    --pidfile "$dockerd_pidfile"
    --bridge=none --iptables=false --ip-masq=false
  )
  # --ip6tables exists from 20.10 on (default false); say it anyway where known.
  if [[ $("$bin" --help 2>/dev/null || true) == *--ip6tables* ]]; then
    args+=(--ip6tables=false)
  fi
  # Guard the loopback-only rule: dockerd's own registry traffic (pulls, pushes)
  # goes through a proxy on a closed loopback port, so a reference to a public
  # registry fails at once instead of reaching out; loopback registries are
  # always contacted directly.
  local envs
  proxy_env
  t0=$(date +%s)
  log "starting $bin (log: $state/dockerd.log)"
  setsid env "${envs[@]}" "$bin" "${args[@]}" >>"$state/dockerd.log" 2>&1 </dev/null 9>&- &
  pid=$!
  for ((i = 0; i < timeout_s * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$state/dockerd.log" >&2 || true
      die "dockerd exited during start-up (log: $state/dockerd.log)"
    fi
    docker_answers && break
    sleep 0.2
  done
  docker_answers || {
    tail -n 20 "$state/dockerd.log" >&2 || true
    die "dockerd (pid $pid) did not answer on $sock within ${timeout_s}s (log: $state/dockerd.log)"
  }
  [[ -s $dockerd_pidfile ]] || echo "$pid" >"$dockerd_pidfile"
  log "dockerd $(docker_cli version --format '{{.Server.Version}}' 2>/dev/null) answers (pid $pid) after $(elapsed "$t0")"
}

start_registry() {
  local pid t0 i old
  old=$(running_port || true)
  if pid=$(live_pid "$registry_pidfile" docker-registry); then
    if [[ $old == "$port" ]] && registry_answers "$port"; then
      log "registry already runs on 127.0.0.1:$port (pid $pid)"
      return 0
    fi
    log "registry (pid $pid) runs on port ${old:-?}, not answering on $port: restarting it"
    stop_pid "$registry_pidfile" docker-registry registry
  fi
  rm -f "$registry_pidfile" "$registry_portfile"
  [[ -x $REGISTRY_BIN ]] || die "$REGISTRY_BIN not found (package docker-registry)"
  if port_in_use "$port"; then
    die "port 127.0.0.1:$port is taken by another program; free it or choose another port with PYFLEET_REGISTRY_PORT"
  fi
  mkdir -p "$registry_dir"
  cat >"$registry_cfg" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $registry_dir
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
EOF
  t0=$(date +%s)
  log "starting $REGISTRY_BIN on 127.0.0.1:$port (log: $state/registry.log)"
  setsid "$REGISTRY_BIN" serve "$registry_cfg" >>"$state/registry.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$registry_pidfile"
  echo "$port" >"$registry_portfile"
  for ((i = 0; i < timeout_s * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$registry_pidfile" "$registry_portfile"
      tail -n 20 "$state/registry.log" >&2 || true
      die "registry exited during start-up (log: $state/registry.log)"
    fi
    registry_answers "$port" && break
    sleep 0.2
  done
  registry_answers "$port" || die "registry (pid $pid) did not answer on 127.0.0.1:$port within ${timeout_s}s"
  log "registry answers on 127.0.0.1:$port (pid $pid) after $(elapsed "$t0")"
}

# base_image REPO TAG [PACKAGE,...]: debootstrap minbase (+ packages), import, push
base_image() {
  local repo=$1 tag=$2 include=${3:-} ref t0 root mirror
  ref=127.0.0.1:$port/$repo:$tag
  if registry_has "$repo" "$tag"; then
    log "$ref is in the registry"
    return 0
  fi
  t0=$(date +%s)
  if docker_cli image inspect "$ref" >/dev/null 2>&1; then
    log "$ref is in dockerd but not in the registry: pushing"
  else
    mirror=$(debian_mirror) || die "no '$SUITE' deb source in /etc/apt/sources.list{,.d/} (set PYFLEET_DEBIAN_MIRROR)"
    mkdir -p "$state/rootfs" "$state/debootstrap-cache"
    root=$(mktemp -d "$state/rootfs/$tag.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the trap must remove this root
    trap "cleanup_root '$root'" EXIT
    local args=(--variant=minbase --cache-dir="$state/debootstrap-cache")
    [[ -n $include ]] && args+=(--include="$include")
    log "debootstrap $SUITE ${include:+(+$include) }from $mirror"
    debootstrap "${args[@]}" "$SUITE" "$root" "$mirror" >"$state/debootstrap-$tag.log" 2>&1 || {
      tail -n 20 "$state/debootstrap-$tag.log" >&2 || true
      die "debootstrap failed (log: $state/debootstrap-$tag.log)"
    }
    log "debootstrap done in $(elapsed "$t0")"
    # Downloaded packages and apt lists are not part of the image.
    rm -rf "${root:?}"/var/cache/apt/archives/*.deb "${root:?}"/var/lib/apt/lists/*
    slimify "$root"
    tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
      docker_cli import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        --message "debootstrap --variant=minbase ${include:+--include=$include }$SUITE" \
        - "$ref" >/dev/null
    cleanup_root "$root"
    trap - EXIT
    log "imported $ref ($(docker_cli image inspect --format '{{.Size}}' "$ref") bytes) after $(elapsed "$t0")"
  fi
  docker_cli push "$ref" >/dev/null
  log "pushed $ref@$(registry_digest "$repo" "$tag") after $(elapsed "$t0")"
}

# slimify ROOT: no documentation, manual pages or translations, now and for
# packages installed later (copyright files stay): the list Debian's official
# -slim images use. Saves about 50 MB.
slimify() {
  local root=$1
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  if [[ -d $root/usr/share/doc ]]; then
    find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  fi
  rm -rf "${root:?}"/usr/share/{groff,info,linda,locale,man}/* "${root:?}"/usr/share/lintian/overrides/*
}

cleanup_root() { # ROOT: unmount what debootstrap left mounted, remove the tree
  local root=$1 m
  [[ -d $root ]] || return 0
  for m in proc sys dev/pts dev; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m" 2>/dev/null || true; fi
  done
  rm -rf --one-file-system "$root"
}

# --- BuildKit for the docker-build provider -----------------------------------------
runc_bin() {
  local b
  for b in "$(command -v runc 2>/dev/null || true)" /usr/sbin/runc /usr/bin/runc; do
    [[ -n $b && -x $b ]] && {
      echo "$b"
      return 0
    }
  done
  return 1
}

# buildkitd_toml PORT: buildkitd's configuration; the local registry speaks plain HTTP
buildkitd_toml() {
  local p=$1 host
  echo "# buildkitd configuration written by infra/local-infra.sh"
  for host in "127.0.0.1:$p" "localhost:$p"; do
    printf '\n[registry."%s"]\n  http = true\n  insecure = true\n' "$host"
  done
}

start_buildkitd() {
  local pid bk_bin runc t0 i
  bk_bin=$(bash "$script_dir/buildkit-toolchain.sh" | tail -n 1) ||
    die "could not build buildkitd (infra/buildkit-toolchain.sh)"
  [[ -x $bk_bin/buildkitd && -x $bk_bin/buildctl ]] || die "no buildkitd and buildctl in '$bk_bin'"
  runc=$(runc_bin) || die "runc not found (package runc, a dependency of docker.io)"
  local args=(
    --config "$bk_cfg"
    --root "$bk_root"
    --addr "unix://$bk_sock"
    --containerd-worker=false
    --oci-worker=true
    --oci-worker-binary="$runc"
    --oci-worker-net=host
    --oci-worker-snapshotter="$bk_snapshotter"
    --allow-insecure-entitlement=network.host
    --otel-socket-path="$bk_otel_sock"
    --cdi-disabled
  )
  local envs
  proxy_env
  # What this start would launch; a running buildkitd launched alike is reused.
  {
    buildkitd_toml "$port"
    printf '\n# Started by infra/local-infra.sh as (a change restarts it):\n#  '
    printf ' %q' env "${envs[@]}" "$bk_bin/buildkitd" "${args[@]}"
    echo
  } >"$bk_cfg.new"
  if pid=$(live_pid "$bk_pidfile" buildkitd); then
    if cmp -s "$bk_cfg" "$bk_cfg.new" && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$bk_bin/buildkitd" ]] &&
      [[ $(cat "$bk_binfile" 2>/dev/null) == "$bk_bin" ]] && buildkitd_answers; then
      rm -f "$bk_cfg.new"
      log "buildkitd already runs (pid $pid)"
      return 0
    fi
    log "buildkitd (pid $pid) runs with another binary or configuration: restarting it"
    stop_buildkitd
  fi
  mv -f "$bk_cfg.new" "$bk_cfg"
  echo "$bk_bin" >"$bk_binfile"
  rm -f "$bk_pidfile" "$bk_sock" "$bk_otel_sock"
  cleanup_buildkit
  mkdir -p "$bk_root"
  t0=$(date +%s)
  log "starting buildkitd $("$bk_bin/buildkitd" --version | awk '{ print $3 }') (log: $state/buildkitd.log)"
  setsid env "${envs[@]}" "$bk_bin/buildkitd" "${args[@]}" >>"$state/buildkitd.log" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$bk_pidfile"
  for ((i = 0; i < timeout_s * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$bk_pidfile"
      tail -n 20 "$state/buildkitd.log" >&2 || true
      die "buildkitd exited during start-up (log: $state/buildkitd.log)"
    fi
    buildkitd_answers && break
    sleep 0.2
  done
  buildkitd_answers || {
    tail -n 20 "$state/buildkitd.log" >&2 || true
    die "buildkitd (pid $pid) did not answer on $bk_sock within ${timeout_s}s (log: $state/buildkitd.log)"
  }
  log "buildkitd answers on unix://$bk_sock (pid $pid, snapshotter $(buildkit_snapshotter)) after $(elapsed "$t0")"
}

buildkit_snapshotter() { # the snapshotter the running buildkitd's worker uses
  "$(cat "$bk_binfile")/buildctl" --addr "unix://$bk_sock" debug workers -v 2>/dev/null |
    awk '$1 == "org.mobyproject.buildkit.worker.snapshotter:" { print $2; exit }'
}

# cleanup_buildkit: build containers a killed buildkitd left behind and the
# empty cgroups runc made for build steps (cgroup v1:
# /sys/fs/cgroup/<controller>/buildkit; only empty ones can go, so another
# BuildKit's are left alone); mounts are removed by do_stop.
cleanup_buildkit() {
  local runc r id
  # buildkitd runs runc with its default state root (/run/runc for root) and
  # bundles under <state>/buildkit/runc-<snapshotter>/executor/<id>.
  if runc=$(runc_bin); then
    while read -r id; do
      log "removing a build container a killed buildkitd left behind: $id"
      "$runc" kill "$id" KILL 2>/dev/null || true
      "$runc" delete --force "$id" 2>/dev/null || true
    done < <("$runc" list 2>/dev/null | awk -v p="$bk_root/" 'NR > 1 && index($4, p) == 1 { print $1 }')
  fi
  for r in /sys/fs/cgroup/buildkit /sys/fs/cgroup/*/buildkit; do
    if [[ -d $r ]]; then rmdir "$r" 2>/dev/null || true; fi
  done
}

stop_buildkitd() {
  stop_pid "$bk_pidfile" buildkitd buildkitd
  cleanup_buildkit
  rm -f "$bk_sock"
}

# register_builder: the buildx builder instance for the docker-build provider,
# byte for byte what `docker buildx create --name pyfleet --driver remote
# unix://<state>/buildkitd.sock` (buildx v0.35, store/nodegroup.go) writes, in
# a docker config dir of its own.
register_builder() {
  local bx=$docker_config/buildx inst json
  mkdir -p "$bx/instances" "$bx/defaults" "$bx/activity"
  chmod 700 "$docker_config" "$bx" "$bx/instances" "$bx/defaults" "$bx/activity"
  [[ -s $docker_config/config.json ]] || printf '{}\n' >"$docker_config/config.json"
  inst=$bx/instances/$BUILDER_NAME
  json=$(printf '{"Name":"%s","Driver":"remote","Nodes":[{"Name":"%s0","Endpoint":"unix://%s","Platforms":null,"DriverOpts":null,"Flags":null,"Files":null}],"Dynamic":false}' \
    "$BUILDER_NAME" "$BUILDER_NAME" "$bk_sock")
  if [[ ! -f $inst || $(<"$inst") != "$json" ]]; then
    (umask 077 && printf '%s' "$json" >"$inst.tmp" && mv -f "$inst.tmp" "$inst")
    (umask 077 && date -u +%Y-%m-%dT%H:%M:%SZ | tr -d '\n' >"$bx/activity/$BUILDER_NAME")
    log "registered buildx builder '$BUILDER_NAME' (remote, unix://$bk_sock) in $docker_config"
  fi
}

# --- commands ---------------------------------------------------------------------
do_start() {
  ((EUID == 0)) || die "start needs root (apt-get, dockerd, debootstrap)"
  local t0
  t0=$(date +%s)
  # fd 9 holds the lock; the daemons are started with it closed (9>&-), or they
  # would hold the lock for as long as they run.
  exec 9>"$state/lock"
  flock -w 900 9 || die "another start/stop holds $state/lock"
  install_packages
  start_dockerd
  start_registry
  base_image base/python "$PYTHON_TAG" python3,python3-venv,python3-pip,ca-certificates
  base_image base/debian "$DEBIAN_TAG"
  start_buildkitd
  register_builder
  log "ready after $(elapsed "$t0")"
  print_env "$port"
}

do_stop() {
  ((EUID == 0)) || die "stop needs root"
  [[ -d $state ]] || {
    log "nothing to stop: no $state"
    return 0
  }
  exec 9>"$state/lock"
  flock -w 900 9 || die "another start/stop holds $state/lock"
  stop_buildkitd
  stop_pid "$registry_pidfile" docker-registry registry
  rm -f "$registry_portfile"
  stop_pid "$dockerd_pidfile" dockerd dockerd
  # dockerd stops its containerd child; one left behind (e.g. dockerd was killed) goes too.
  stop_pid "$containerd_pidfile" containerd containerd
  # dockerd leaves its bind mount of the host network namespace
  # (exec/netns/default) behind, a killed buildkitd its overlay mounts under
  # buildkit/; unmount what is left under the state dir so it can be deleted.
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done < <(awk -v p="$state/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -f "$sock"
  log "stopped (data stays in $state)"
}

do_status() {
  local pid rc=0 p
  echo "state dir: $state"
  if pid=$(live_pid "$dockerd_pidfile" dockerd 2>/dev/null); then
    if docker_answers; then
      echo "dockerd:   running, pid $pid, unix://$sock, version $(docker_cli version --format '{{.Server.Version}}' 2>/dev/null)"
    else
      echo "dockerd:   pid $pid, NOT answering on unix://$sock"
      rc=1
    fi
    if p=$(live_pid "$containerd_pidfile" containerd 2>/dev/null); then
      echo "containerd: running (child of dockerd), pid $p"
    fi
  else
    echo "dockerd:   not running"
    rc=1
  fi
  p=$(running_port || true)
  if pid=$(live_pid "$registry_pidfile" docker-registry 2>/dev/null) && [[ -n $p ]] && registry_answers "$p"; then
    echo "registry:  running, pid $pid, http://127.0.0.1:$p"
    port=$p
    local repo tag d
    for repo in "base/python:$PYTHON_TAG" "base/debian:$DEBIAN_TAG"; do
      tag=${repo##*:}
      d=$(registry_digest "${repo%:*}" "$tag" || true)
      echo "image:     127.0.0.1:$p/$repo ${d:-(missing)}"
    done
  else
    echo "registry:  not running"
    rc=1
  fi
  if pid=$(live_pid "$bk_pidfile" buildkitd 2>/dev/null); then
    if buildkitd_answers; then
      echo "buildkitd: running, pid $pid, unix://$bk_sock, $("$(cat "$bk_binfile")/buildkitd" --version | awk '{ print $3 }'), snapshotter $(buildkit_snapshotter)"
      echo "builder:   $BUILDER_NAME (DOCKER_CONFIG=$docker_config)"
    else
      echo "buildkitd: pid $pid, NOT answering on unix://$bk_sock"
      rc=1
    fi
  else
    echo "buildkitd: not running"
    rc=1
  fi
  return "$rc"
}

do_env() {
  local p
  p=$(running_port || true)
  if [[ -n $p ]] && live_pid "$dockerd_pidfile" dockerd >/dev/null && docker_answers &&
    live_pid "$registry_pidfile" docker-registry >/dev/null && registry_answers "$p" &&
    live_pid "$bk_pidfile" buildkitd >/dev/null && buildkitd_answers; then
    print_env "$p"
  else
    log "not running (state dir $state); run: $0 start${state:+ --state-dir $state}"
    exit 1
  fi
}

"do_$cmd"
