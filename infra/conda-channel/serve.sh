#!/usr/bin/env bash
# Serve the local conda channel (built by build.sh) over HTTP on 127.0.0.1.
#
# Usage:
#   infra/conda-channel/serve.sh start [--port PORT] [--state-dir DIR]
#       build the channel if needed, serve it in the background; last stdout line = its URL
#   infra/conda-channel/serve.sh stop  [--state-dir DIR]    stop the server started from DIR
#   infra/conda-channel/serve.sh url   [--state-dir DIR]    print the URL (exit 1 if not serving)
#
#   channel=$(infra/conda-channel/serve.sh start --port 8470 | tail -1)
#   # e.g. conda-lock --channel "$channel", or the CONDA_CHANNEL build argument of an image
#
# Environment:
#   PYFLEET_CONDA_CHANNEL_PORT   port (default: 8470)
#   PYFLEET_CONDA_CHANNEL_STATE  state directory for the pid and log files
#                                (default: $HOME/.cache/pyfleet/conda-channel/serve)
#   PYFLEET_CONDA_CHANNEL_CACHE  see build.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${PYFLEET_CONDA_CHANNEL_PORT:-8470}
state=${PYFLEET_CONDA_CHANNEL_STATE:-${PYFLEET_CONDA_CHANNEL_CACHE:-$HOME/.cache/pyfleet/conda-channel}/serve}

log_prefix=conda-channel
# shellcheck source=infra/lib/common.sh
. "$here/../lib/common.sh"

need_command "$@"
shift
while [[ $# -gt 0 ]]; do
  case $1 in
  --port)
    port=${2:?--port needs a value}
    shift 2
    ;;
  --state-dir)
    state=${2:?--state-dir needs a value}
    shift 2
    ;;
  *) die "unknown argument: $1" ;;
  esac
done
[[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || die "--port must be 1..65535, got $port"

pidfile=$state/server.pid
urlfile=$state/url

running() {
  [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

case $cmd in
start)
  mkdir -p "$state"
  if running; then
    log "already serving (pid $(cat "$pidfile"))"
    cat "$urlfile"
    exit 0
  fi
  channel=$(bash "$here/build.sh" | tail -n 1)
  [[ -f $channel/linux-64/repodata.json ]] || die "no channel at $channel"
  url=http://127.0.0.1:$port
  python3 -m http.server --bind 127.0.0.1 --directory "$channel" "$port" >"$state/server.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 50); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
      "$url/linux-64/repodata.json" 2>/dev/null; then
      echo "$url" >"$urlfile"
      log "serving $channel on $url (pid $(cat "$pidfile"))"
      echo "$url"
      exit 0
    fi
    running || die "the server exited: $(tail -n 5 "$state/server.log")"
    sleep 0.2
  done
  die "the server did not answer on $url within 10 s"
  ;;
stop)
  if running; then
    kill "$(cat "$pidfile")"
    log "stopped pid $(cat "$pidfile")"
  fi
  rm -f "$pidfile" "$urlfile"
  ;;
url)
  running && [[ -f $urlfile ]] || exit 1
  cat "$urlfile"
  ;;
*)
  usage
  die "unknown command: $cmd"
  ;;
esac
