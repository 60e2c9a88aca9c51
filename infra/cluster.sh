#!/usr/bin/env bash
# A one-node, k3s-shaped Kubernetes cluster on this machine, inside a network
# namespace of its own, with the apiserver and the Traefik ingress bridged to
# 127.0.0.1. Separate from the image engine (infra/local-infra.sh) but pulling
# from its loopback registry, so the kubelet pulls our images by digest.
#
# Usage:
#   infra/cluster.sh start  [--state-dir DIR]   build what is missing, start; last stdout
#                                               lines = KUBECONFIG=<path> and PYFLEET_INGRESS=<url>
#                                               (after PYFLEET_CLUSTER_BUSYBOX=<image>)
#   infra/cluster.sh stop   [--state-dir DIR]   stop every process by pid, restore host
#                                               sysctls, remove the netns, mounts and run state
#   infra/cluster.sh status [--state-dir DIR]   print what runs (exit 1 if nothing does)
#   infra/cluster.sh env    [--state-dir DIR]   print the export lines (exit 1 if not running)
#   npm run cluster -- start|stop|status|env
#
#   eval "$(infra/cluster.sh start | tail -2 | sed 's/^/export /')"
#   kubectl get nodes   # kubectl: $(infra/cluster/build.sh --bin kubernetes)/kubectl
#
# Layout (as root): network namespace $PYFLEET_CLUSTER_NETNS holds the whole
# cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# containerd, kubelet, kube-proxy (iptables) and kube-router's NetworkPolicy
# controller (--run-firewall only, as k3s embeds it). The node's address sits on a
# bridge inside it; pods get 10.244.0.0/24 on the CNI bridge there, services
# 10.96.0.0/16; nothing of it is routed to the host. socat joins unix sockets
# under the run dir to TCP on either side:
#   host 127.0.0.1:$PYFLEET_CLUSTER_API_PORT     -> apiserver (netns :6443)
#   host 127.0.0.1:$PYFLEET_CLUSTER_INGRESS_PORT -> Traefik's web entrypoint (NodePort 30080)
#   netns 127.0.0.1:$PYFLEET_REGISTRY_PORT       -> host 127.0.0.1:$PYFLEET_REGISTRY_PORT (registry)
# Add-ons, as k3s ships them: CoreDNS, Traefik (IngressClass `traefik`, default),
# local-path-provisioner (StorageClass `local-path`, default), metrics-server.
# Their images are made from the built binaries and imported into containerd.
#
# The kubelet sets host sysctls (vm.overcommit_memory, kernel.panic,
# kernel.panic_on_oops): `start` records them first, `stop` restores them.
#
# Environment:
#   PYFLEET_CLUSTER_DIR           state (default: $HOME/.cache/pyfleet/cluster-state)
#   PYFLEET_CLUSTER_NETNS         network namespace name (default: pyfleet-cluster)
#   PYFLEET_CLUSTER_API_PORT      apiserver on host loopback (default: 6443)
#   PYFLEET_CLUSTER_INGRESS_PORT  Traefik on host loopback (default: 8088)
#   PYFLEET_REGISTRY_PORT         the loopback registry (default: 5000, as infra/local-infra.sh)
#   PYFLEET_CLUSTER_TIMEOUT       seconds to wait for each part to answer (default: 180)
#   PYFLEET_CLUSTER_CACHE         build cache, see infra/cluster/build.sh
set -euo pipefail

readonly NODE=pyfleet
readonly NODE_IP=10.200.0.2
readonly NODE_NET=10.200.0.2/24
readonly POD_CIDR=10.244.0.0/16
readonly NODE_POD_CIDR=10.244.0.0/24
readonly SERVICE_CIDR=10.96.0.0/16
readonly API_SERVICE_IP=10.96.0.1
readonly DNS_IP=10.96.0.10
readonly INGRESS_NODEPORT=30080 # Traefik web NodePort, as in cluster/addons/traefik.yaml
# Host sysctls the kubelet (and kube-proxy) may set; recorded at start, restored at stop.
readonly HOST_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward)

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log_prefix=cluster
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

need_command "$@"
shift
state=${PYFLEET_CLUSTER_DIR:-$HOME/.cache/pyfleet/cluster-state}
parse_state_dir "$@"
case $cmd in
start | stop | status | env) ;;
-h | --help | help)
  usage
  exit 0
  ;;
*)
  usage
  die "unknown command '$cmd'; use start, stop, status or env"
  ;;
esac

netns=${PYFLEET_CLUSTER_NETNS:-pyfleet-cluster}
api_port=${PYFLEET_CLUSTER_API_PORT:-6443}
ingress_port=${PYFLEET_CLUSTER_INGRESS_PORT:-8088}
registry_port=${PYFLEET_REGISTRY_PORT:-5000}
timeout=${PYFLEET_CLUSTER_TIMEOUT:-180}
for v in api_port ingress_port registry_port timeout; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, not '${!v}' (PYFLEET_CLUSTER_${v^^} / PYFLEET_REGISTRY_PORT)"
done
[[ $netns =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] ||
  die "PYFLEET_CLUSTER_NETNS must be lower-case letters, digits and dashes, not '$netns'"
mkdir -p "$state"
state=$(cd "$state" && pwd)
run=/run/pyfleet-cluster-$netns # runtime state: sockets, containerd and runc state, pod netns
data=$state/data                 # cluster data: etcd, kubelet, containerd images, volumes
pids=$state/pids
logs=$state/logs
pki=$state/pki
kubeconfig=$state/kubeconfig          # for the host: https://127.0.0.1:$api_port
inner_kubeconfig=$state/kubeconfig.in # for components in the namespace
in_ns=(nsenter "--net=/run/netns/$netns" --)

# --- processes ------------------------------------------------------------------
# Each daemon's pid and command line are recorded; a pid counts as ours only while
# its /proc/<pid>/cmdline still matches, so a reused pid is never signalled.
is_running() { # NAME
  local f=$pids/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(cat "$f")
  [[ -r /proc/$pid/cmdline ]] || return 1
  [[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == "$(cat "$pids/$1.cmdline" 2>/dev/null)" ]]
}

# spawn NAME CMD...: start CMD in the background, log to logs/NAME.log
spawn() {
  local name=$1 pid i want=() got=
  shift
  mkdir -p "$pids" "$logs"
  # The daemon's own command line: nsenter execs it, so the pid stays the same.
  if [[ $1 == nsenter ]]; then
    want=("$@")
    while [[ ${want[0]} != -- ]]; do want=("${want[@]:1}"); done
    want=("${want[@]:1}")
  else
    want=("$@")
  fi
  printf '%s ' "${want[@]}" >"$pids/$name.cmdline"
  nohup "$@" >"$logs/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pids/$name.pid"
  for ((i = 0; i < 100; i++)); do
    got=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || break
    [[ $got == "$(cat "$pids/$name.cmdline")" ]] && return 0
    sleep 0.1
  done
  die "$name did not start (pid $pid, command line '$got'); see $logs/$name.log"
}

stop_pid_file() { # NAME
  local name=$1 pid i
  if is_running "$name"; then
    pid=$(cat "$pids/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop in 10 s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$pids/$name.pid" "$pids/$name.cmdline"
}

# wait_until WHAT CMD...: run CMD until it succeeds, a progress line every 10 s.
wait_until() {
  local what=$1 start now last=0
  shift
  start=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    now=$(date +%s)
    if ((now - start >= timeout)); then
      return 1
    fi
    if ((now - last >= 10)); then
      ((last == 0)) || log "waiting for $what: $((now - start)) s of at most $timeout s"
      last=$now
    fi
    sleep 1
  done
  log "$what: ready after $(($(date +%s) - start)) s"
}

need_running() { # NAME LOGHINT
  is_running "$1" || die "$1 exited; last lines of $logs/$1.log:
$(tail -n 15 "$logs/$1.log" 2>/dev/null)"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- status -------------------------------------------------------------------
readonly DAEMONS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy
  kube-router bridge-registry-in bridge-registry-out bridge-api-in bridge-api-out bridge-ingress-in bridge-ingress-out)

# The busybox image made from Debian's busybox-static: local-path's helper pods, and
# a small image for probe pods (printed by `env` as PYFLEET_CLUSTER_BUSYBOX).
busybox_ref() {
  echo "pyfleet.local/busybox:$(dpkg-query -W -f='${Version}' busybox-static | tr -c 'A-Za-z0-9_.\n-' '_')"
}

print_env() {
  echo "PYFLEET_CLUSTER_BUSYBOX=$(busybox_ref)"
  echo "KUBECONFIG=$kubeconfig"
  echo "PYFLEET_INGRESS=http://127.0.0.1:$ingress_port"
}

cluster_status() {
  local any=1 name
  for name in "${DAEMONS[@]}"; do
    if is_running "$name"; then
      printf '%-24s running (pid %s)\n' "$name" "$(cat "$pids/$name.pid")"
      any=0
    elif [[ -f $pids/$name.pid ]]; then
      printf '%-24s exited (see %s)\n' "$name" "$logs/$name.log"
    fi
  done
  if [[ -e /run/netns/$netns ]]; then echo "netns $netns: present"; fi
  if ((any == 0)) && [[ -f $kubeconfig ]]; then
    echo "apiserver: https://127.0.0.1:$api_port  ingress: http://127.0.0.1:$ingress_port  registry (in netns): 127.0.0.1:$registry_port"
    local kubectl
    kubectl="$(bash "$script_dir/cluster/build.sh" --bin kubernetes)/kubectl"
    if [[ -x $kubectl ]]; then
      "$kubectl" --kubeconfig "$kubeconfig" --request-timeout=5s get nodes -o wide 2>&1 || true
      "$kubectl" --kubeconfig "$kubeconfig" --request-timeout=5s get pods -A 2>&1 || true
    fi
  fi
  return $any
}

# --- stop -----------------------------------------------------------------------
# Shims outlive containerd by design; ours carry our containerd's socket in their
# command line (-address <run>/containerd.sock), which is how their pids are found.
our_shim_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    local cmdline
    cmdline=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
    if [[ $cmdline == *containerd-shim*" -address $run/containerd.sock"* ]]; then
      echo "${p#/proc/}"
    fi
  done
}

unmount_under() { # DIR...: unmount every mount below DIR, deepest first
  local d m
  for d in "$@"; do
    while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
    done < <(awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
  done
}

remove_cgroups() { # kubelet's cgroupfs hierarchy, bottom-up, once every task is gone
  local c
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d $c ]] || continue
    find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d $c ]] && log "cgroup $c still has tasks: left in place"
  done
}

restore_sysctls() {
  local f=$state/host-sysctls key value now
  [[ -f $f ]] || return 0
  while read -r key value; do
    now=$(sysctl -n "$key" 2>/dev/null) || continue
    if [[ $now != "$value" ]]; then
      sysctl -q -w "$key=$value" >/dev/null && log "restored host sysctl $key = $value (was $now)"
    fi
  done <"$f"
  rm -f "$f"
}

cluster_stop() {
  local name pid
  # kubelet first, so nothing restarts the pods being stopped
  stop_pid_file kubelet
  if is_running containerd; then
    local ctr=(ctr --address "$run/containerd.sock" -n k8s.io)
    for name in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" tasks kill -s SIGKILL "$name" >/dev/null 2>&1 || true
    done
  fi
  for name in kube-router kube-proxy bridge-ingress-in bridge-ingress-out bridge-api-in bridge-api-out \
    kube-scheduler kube-controller-manager kube-apiserver etcd containerd bridge-registry-in bridge-registry-out; do
    stop_pid_file "$name"
  done
  for pid in $(our_shim_pids); do
    kill -KILL "$pid" 2>/dev/null && log "stopped containerd-shim (pid $pid)"
  done
  sleep 0.5
  unmount_under "$run" "$data"
  remove_cgroups
  if [[ -e /run/netns/$netns ]]; then
    ip netns del "$netns" && log "removed netns $netns"
  fi
  rm -rf "$run"
  rm -rf "$data"
  if [[ -f $state/var-log-containers.created ]]; then
    rm -rf /var/log/containers && log "removed /var/log/containers"
    rm -f "$state/var-log-containers.created"
  fi
  restore_sysctls
  log "stopped"
}

# --- start ------------------------------------------------------------------------
record_sysctls() {
  local f=$state/host-sysctls key
  [[ -f $f ]] && return 0 # recorded by a start that was not stopped: keep the original values
  : >"$f.tmp"
  for key in "${HOST_SYSCTLS[@]}"; do
    if sysctl -n "$key" >/dev/null 2>&1; then echo "$key $(sysctl -n "$key")" >>"$f.tmp"; fi
  done
  mv "$f.tmp" "$f"
}

make_pki() {
  [[ -f $pki/complete ]] && return 0
  rm -rf "$pki"
  mkdir -p "$pki"
  local o=(-sha256 -days 3650)
  (
    cd "$pki"
    ca() { # NAME CN
      openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" "${o[@]}" -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    }
    cert() { # NAME CA SUBJ EXT [SAN]
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
      {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$4"
        [[ -z ${5:-} ]] || echo "subjectAltName=$5"
      } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" "${o[@]}" \
        -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    ca ca pyfleet-cluster-ca
    ca front-proxy-ca pyfleet-front-proxy-ca
    cert apiserver ca /CN=kube-apiserver serverAuth \
      "IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin ca "/O=system:masters/CN=pyfleet-admin" clientAuth
    cert node ca "/O=system:nodes/CN=system:node:$NODE" clientAuth
    cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    cert front-proxy-client front-proxy-ca /CN=front-proxy-client clientAuth
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  chmod 600 "$pki"/*.key
  touch "$pki/complete"
}

write_kubeconfig() { # FILE SERVER CERT
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pyfleet
  cluster:
    server: $2
    certificate-authority: $pki/ca.crt
users:
- name: $3
  user:
    client-certificate: $pki/$3.crt
    client-key: $pki/$3.key
contexts:
- name: pyfleet
  context: {cluster: pyfleet, user: $3}
current-context: pyfleet
EOF
  chmod 600 "$1"
}

make_netns() {
  if [[ ! -e /run/netns/$netns ]]; then
    ip netns add "$netns"
    log "created netns $netns"
  fi
  local ip=(ip -n "$netns")
  "${ip[@]}" link set lo up
  "${ip[@]}" link show node0 >/dev/null 2>&1 || "${ip[@]}" link add node0 type bridge
  # replace, not add: idempotent when a restart finds the address in place.
  "${ip[@]}" addr replace "$NODE_NET" dev node0
  "${ip[@]}" link set node0 up
  # Per-namespace settings: routing between the pod bridge and the node address,
  # and bridged pod traffic through iptables (service NAT, NetworkPolicy).
  "${in_ns[@]}" sysctl -q -w net.ipv4.ip_forward=1
  "${in_ns[@]}" sysctl -q -w net.bridge.bridge-nf-call-iptables=1 2>/dev/null ||
    log "net.bridge.bridge-nf-call-iptables not settable in the namespace; service traffic between pods may fail"
}

write_configs() {
  mkdir -p "$data/cni" "$data/cni-ipam" "$state/certs.d/127.0.0.1:$registry_port" \
    "$state/certs.d/localhost:$registry_port" "$data/local-path" "$data/pod-logs"
  cat >"$data/cni/10-pyfleet.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "pyfleet",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$data/cni-ipam",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  local h
  for h in "127.0.0.1:$registry_port" "localhost:$registry_port"; do
    cat >"$state/certs.d/$h/hosts.toml" <<EOF
server = "http://127.0.0.1:$registry_port"
[host."http://127.0.0.1:$registry_port"]
  capabilities = ["pull", "resolve"]
EOF
  done
  cat >"$state/containerd.toml" <<EOF
version = 2
root = "$data/containerd"
state = "$run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$run/containerd.sock"
[ttrpc]
  address = "$run/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$data/containerd-opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true # pod netns under $run, removed by stop
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/bin/runc"
        Root = "$run/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$data/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$state/certs.d"
EOF
  cat >"$state/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$run/containerd.sock
address: $NODE_IP
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: ""
failSwapOn: false
podLogsDir: $data/pod-logs
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
maxPods: 110
EOF
  cat >"$state/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $inner_kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# bridge NAME HOST_SIDE NETNS_SIDE: host TCP <-> unix socket <-> netns TCP.
# DIRECTION in: host listens; out: the namespace listens.
bridge() {
  local name=$1 dir=$2 listen_port=$3 target=$4 sock=$run/$1.sock
  if [[ $dir == in ]]; then
    is_running "bridge-$name-out" || spawn "bridge-$name-out" "${in_ns[@]}" socat \
      "UNIX-LISTEN:$sock,fork,unlink-early,mode=600" "TCP4:$target"
    is_running "bridge-$name-in" || spawn "bridge-$name-in" socat \
      "TCP4-LISTEN:$listen_port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$sock"
  else
    is_running "bridge-$name-out" || spawn "bridge-$name-out" socat \
      "UNIX-LISTEN:$sock,fork,unlink-early,mode=600" "TCP4:$target"
    is_running "bridge-$name-in" || spawn "bridge-$name-in" "${in_ns[@]}" socat \
      "TCP4-LISTEN:$listen_port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$sock"
  fi
}

import_images() {
  local ctr=(ctr --address "$run/containerd.sock" -n k8s.io) have tmp
  have=$("${ctr[@]}" images ls -q 2>/dev/null || true)
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/cluster-images.XXXXXX")
  local py=(python3 "$script_dir/cluster/image.py" archive)
  local specs=(
    "$pause_image|--file $b_pause/pause:/pause:0755 --entrypoint [\"/pause\"] --user 65535:65535"
    "$coredns_image|--file $b_coredns/coredns:/coredns:0755 --entrypoint [\"/coredns\"] --user 65532:65532"
    "$traefik_image|--file $b_traefik/traefik:/traefik:0755 --dir /tmp:1777 --entrypoint [\"/traefik\"] --user 65532:65532"
    "$metrics_image|--file $b_metrics/metrics-server:/metrics-server:0755 --dir /tmp:1777 --entrypoint [\"/metrics-server\"] --user 65532:65532"
    "$local_path_image|--file $b_local_path/local-path-provisioner:/local-path-provisioner:0755 --entrypoint [\"/local-path-provisioner\"]"
    "$busybox_image|--file /bin/busybox:/bin/busybox:0755 --link /bin/sh:busybox --link /bin/mkdir:busybox --link /bin/rm:busybox --link /bin/chmod:busybox --link /bin/ls:busybox --link /bin/cat:busybox --link /bin/httpd:busybox --link /bin/wget:busybox --link /bin/sleep:busybox --link /bin/echo:busybox --dir /tmp:1777 --cmd [\"/bin/sh\"]"
  )
  local s ref args
  for s in "${specs[@]}"; do
    ref=${s%%|*}
    args=${s#*|}
    if grep -qx "$ref" <<<"$have"; then continue; fi
    # shellcheck disable=SC2086 # args is a word list made above
    "${py[@]}" --out "$tmp/image.tar" --name "$ref" $args
    "${ctr[@]}" images import "$tmp/image.tar" >/dev/null
    log "imported $ref"
  done
  rm -rf "$tmp"
}

render_addons() {
  local f out=$state/addons.yaml
  : >"$out"
  for f in "$script_dir"/cluster/addons/*.yaml; do
    sed -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@NODE_IP@|$NODE_IP|g" \
      -e "s|@LOCAL_PATH_DIR@|$data/local-path|g" \
      -e "s|@COREDNS_IMAGE@|$coredns_image|g" -e "s|@TRAEFIK_IMAGE@|$traefik_image|g" \
      -e "s|@METRICS_IMAGE@|$metrics_image|g" -e "s|@LOCAL_PATH_IMAGE@|$local_path_image|g" \
      -e "s|@BUSYBOX_IMAGE@|$busybox_image|g" "$f" >>"$out"
    echo "---" >>"$out"
  done
  echo "$out"
}

cluster_start() {
  [[ $(id -u) == 0 ]] || die "start needs root (network namespace, mounts, cgroups)"
  local build=$script_dir/cluster/build.sh t0
  t0=$(date +%s)
  if ! bash "$build" --check >/dev/null 2>&1; then
    log "building the cluster parts (cached by version; progress below)"
    bash "$build" >/dev/null
  fi
  b_k8s=$(bash "$build" --bin kubernetes)
  b_etcd=$(bash "$build" --bin etcd)
  b_pause=$(bash "$build" --bin pause)
  b_coredns=$(bash "$build" --bin coredns)
  b_traefik=$(bash "$build" --bin traefik)
  b_metrics=$(bash "$build" --bin metrics)
  b_local_path=$(bash "$build" --bin local-path)
  b_router=$(bash "$build" --bin kube-router)
  local vers
  vers=$(bash "$build" --print-versions)
  ver() { awk -v p="$1" '$1 == p { print $2 }' <<<"$vers"; }
  pause_image=pyfleet.local/pause:$(ver pause)
  coredns_image=pyfleet.local/coredns:$(ver coredns)
  traefik_image=pyfleet.local/traefik:$(ver traefik)
  metrics_image=pyfleet.local/metrics-server:$(ver metrics)
  local_path_image=pyfleet.local/local-path-provisioner:$(ver local-path)
  busybox_image=$(busybox_ref)
  kubectl=$b_k8s/kubectl

  local all=0 d
  for d in "${DAEMONS[@]}"; do is_running "$d" || all=1; done
  if ((all == 0)); then
    log "already running"
    print_env
    return 0
  fi
  for p in "$api_port" "$ingress_port"; do
    if ! is_running bridge-api-in && ! is_running bridge-ingress-in && ! port_free "$p"; then
      die "port 127.0.0.1:$p is taken by another program; free it or choose another with PYFLEET_CLUSTER_API_PORT / PYFLEET_CLUSTER_INGRESS_PORT"
    fi
  done
  if port_free "$registry_port"; then
    log "warning: no registry answers on 127.0.0.1:$registry_port (infra/local-infra.sh start); images from it will not pull"
  fi

  record_sysctls
  [[ -d /var/log/containers ]] || { mkdir -p /var/log/containers && touch "$state/var-log-containers.created"; }
  mkdir -p "$run" "$data"
  make_netns
  make_pki
  write_kubeconfig "$kubeconfig" "https://127.0.0.1:$api_port" admin
  write_kubeconfig "$inner_kubeconfig" "https://$NODE_IP:6443" admin
  write_kubeconfig "$state/kubelet.kubeconfig" "https://$NODE_IP:6443" node
  write_configs

  bridge registry out "$registry_port" "127.0.0.1:$registry_port"

  is_running etcd || spawn etcd "${in_ns[@]}" "$b_etcd/etcd" --name "$NODE" --data-dir "$data/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes 2147483648
  wait_until etcd "${in_ns[@]}" bash -c '(exec 3<>/dev/tcp/127.0.0.1/2381 && printf "GET /health HTTP/1.0\r\n\r\n" >&3 && grep -q "\"health\":\"true\"" <&3)' ||
    need_running etcd

  is_running kube-apiserver || spawn kube-apiserver "${in_ns[@]}" "$b_k8s/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --secure-port=6443 \
    --advertise-address="$NODE_IP" --service-cluster-ip-range="$SERVICE_CIDR" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --authorization-mode=Node,RBAC \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
    --kubelet-preferred-address-types=InternalIP --enable-aggregator-routing=true \
    --enable-admission-plugins=NodeRestriction --allow-privileged=true \
    --profiling=false
  wait_until kube-apiserver "${in_ns[@]}" "$kubectl" --kubeconfig "$inner_kubeconfig" get --raw /readyz ||
    need_running kube-apiserver
  bridge api in "$api_port" "127.0.0.1:6443"

  is_running kube-controller-manager || spawn kube-controller-manager "${in_ns[@]}" "$b_k8s/kube-controller-manager" \
    --kubeconfig="$inner_kubeconfig" --authentication-kubeconfig="$inner_kubeconfig" \
    --authorization-kubeconfig="$inner_kubeconfig" --bind-address=127.0.0.1 --leader-elect=false \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key" \
    --use-service-account-credentials=true --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" \
    --node-cidr-mask-size=24 --service-cluster-ip-range="$SERVICE_CIDR"
  is_running kube-scheduler || spawn kube-scheduler "${in_ns[@]}" "$b_k8s/kube-scheduler" \
    --kubeconfig="$inner_kubeconfig" --authentication-kubeconfig="$inner_kubeconfig" \
    --authorization-kubeconfig="$inner_kubeconfig" --bind-address=127.0.0.1 --leader-elect=false

  is_running containerd || spawn containerd "${in_ns[@]}" containerd --config "$state/containerd.toml"
  wait_until containerd ctr --address "$run/containerd.sock" version || need_running containerd
  import_images

  is_running kubelet || spawn kubelet "${in_ns[@]}" "$b_k8s/kubelet" --config="$state/kubelet.yaml" \
    --kubeconfig="$state/kubelet.kubeconfig" --hostname-override="$NODE" --node-ip="$NODE_IP" \
    --root-dir="$data/kubelet" --cert-dir="$data/kubelet-pki"
  is_running kube-proxy || spawn kube-proxy "${in_ns[@]}" "$b_k8s/kube-proxy" --config="$state/kube-proxy.yaml"
  wait_until "node $NODE Ready" "$kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready "node/$NODE" --timeout=5s ||
    {
      need_running kubelet
      die "node $NODE is not Ready after $timeout s; see $logs/kubelet.log"
    }
  is_running kube-router || spawn kube-router "${in_ns[@]}" "$b_router/kube-router" --kubeconfig="$inner_kubeconfig" \
    --run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false \
    --enable-cni=false --hostname-override="$NODE" --enable-ipv6=false --health-port=0 --metrics-port=0 \
    --service-cluster-ip-range="$SERVICE_CIDR"

  "$kubectl" --kubeconfig "$kubeconfig" apply --server-side --force-conflicts -f "$(render_addons)" >/dev/null
  bridge ingress in "$ingress_port" "$NODE_IP:$INGRESS_NODEPORT"
  for d in coredns traefik local-path-provisioner metrics-server; do
    wait_until "add-on $d" "$kubectl" --kubeconfig "$kubeconfig" -n kube-system wait --for=condition=Available \
      "deployment/$d" --timeout=5s || die "add-on $d is not Available after $timeout s:
$("$kubectl" --kubeconfig "$kubeconfig" -n kube-system get pods -o wide 2>&1)"
  done
  wait_until "metrics API" "$kubectl" --kubeconfig "$kubeconfig" get --raw /apis/metrics.k8s.io/v1beta1/nodes ||
    log "warning: the metrics API does not answer yet (kubectl top may fail for a minute)"
  for d in "${DAEMONS[@]}"; do need_running "$d"; done
  log "cluster up in $(($(date +%s) - t0)) s: apiserver https://127.0.0.1:$api_port, ingress http://127.0.0.1:$ingress_port (send the Ingress host as Host header)"
  print_env
}

case $cmd in
start) cluster_start ;;
stop) cluster_stop ;;
status) cluster_status ;;
env)
  is_running kube-apiserver || exit 1
  print_env
  ;;
esac
