#!/usr/bin/env bash
# What the infra/ scripts have in common. Set log_prefix, then source it:
#
#   log_prefix=cluster
#   # shellcheck source=infra/lib/common.sh
#   . "$script_dir/lib/common.sh"
#
# Everything here writes to stderr: a script's stdout is kept for the lines other
# programs read (a bin dir, `KUBECONFIG=...`). Every error exits 2.

: "${log_prefix:?set log_prefix before sourcing infra/lib/common.sh}"
# The script that sources this file; its header comment is the usage text.
common_script=${BASH_SOURCE[1]}

# log MESSAGE...: `[<log_prefix>] MESSAGE...` on stderr.
log() { printf '[%s] %s\n' "$log_prefix" "$*" >&2; }

# die MESSAGE...: log `error: MESSAGE...` and exit 2.
die() {
  log "error: $*"
  exit 2
}

# usage: the script's header comment, from line 2 up to its `set -euo pipefail`,
# without the comment marks, on stderr.
usage() { sed -n '2,/^set -euo/p' "$common_script" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; }

# help_or_unknown ARG: the last branch of a script's own argument parsing. -h and
# --help print the usage and exit 0; any other ARG prints the usage and dies
# "unknown argument: ARG".
help_or_unknown() {
  case $1 in
  -h | --help)
    usage
    exit 0
    ;;
  *)
    usage
    die "unknown argument: $1"
    ;;
  esac
}

# need_command "$@": for scripts run as `SCRIPT COMMAND [OPTION...]`. Sets cmd to the
# command; with none, prints the usage and exits 2. The caller shifts it off.
need_command() {
  cmd=${1:-}
  [[ -n $cmd ]] || {
    usage
    exit 2
  }
}

# parse_state_dir OPTION...: the options after the command of a script whose only
# option is the state directory. --state-dir DIR and --state-dir=DIR set state (else
# it keeps the default the script gave it); anything else goes to help_or_unknown.
# shellcheck disable=SC2034 # state belongs to the calling script
parse_state_dir() {
  while (($#)); do
    case $1 in
    --state-dir)
      (($# >= 2)) || die "--state-dir needs a directory"
      state=$2
      shift 2
      ;;
    --state-dir=*)
      state=${1#--state-dir=}
      shift
      ;;
    *) help_or_unknown "$1" ;;
    esac
  done
}

# go_build_env: the environment of every Go build here. Static binaries, module mode
# without VCS stamps, the installed go only (no toolchain downloads), no go.work, and
# GOSUMDB from PYFLEET_GOSUMDB (default off: the checksum database is not reachable,
# downloads are checked against go.sum files instead). The compile cache is pyfleet's own
# (PYFLEET_GOCACHE, default $HOME/.cache/pyfleet/go-build), not the user's: the toolchains
# leave about 17 GiB in it, which ci/prefetch.sh removes once every binary is cached (see
# go_cache_trim), so the cluster's disk is not the one that fills. Every binary is linked
# stripped (-ldflags "-s -w"), so the compiler's DWARF would only be thrown away at the link:
# -dwarf=false skips it (as `go run` does), a cold compile of crane took 20.1 s instead of
# 22.8 s (two runs each) and left a quarter less in the compile cache.
go_cache_dir=${PYFLEET_GOCACHE:-$HOME/.cache/pyfleet/go-build}
go_build_env() {
  export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false -gcflags=all=-dwarf=false" GOTOOLCHAIN=local GOWORK=off
  export GOSUMDB=${PYFLEET_GOSUMDB:-off}
  export GOCACHE=$go_cache_dir
}

# go_cache_trim: removes pyfleet's Go compile cache (go_build_env's GOCACHE), logging what
# it freed. Only for when no build runs: the binaries live in their own caches, keyed by
# version, so the compile cache only speeds up a rebuild at a new version.
go_cache_trim() {
  local size
  [[ -d $go_cache_dir ]] || return 0
  size=$(du -sh "$go_cache_dir" 2>/dev/null | cut -f1)
  rm -rf "$go_cache_dir"
  log "removed the Go compile cache $go_cache_dir ($size)"
}

# go_mod_field MODULE@VERSION FIELD: a field (Dir, GoMod, Sum, GoModSum, ...) of
# `go mod download -json MODULE@VERSION`, run outside any module, from the module
# cache when it holds the module. When go fails, its output goes to stderr and this
# returns 1.
go_mod_field() {
  local out
  out=$(cd "${TMPDIR:-/tmp}" && go mod download -json "$1" 2>&1) || {
    printf '%s\n' "$out" >&2
    return 1
  }
  printf '%s\n' "$out" | sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\{0,1\}\$/\\1/p" | head -n 1
}

# go_required_version GO.MOD MODULE: the version GO.MOD requires of MODULE
go_required_version() {
  awk -v m="$2" '
    /^require[ \t]*\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    inblock && $1 == m { print $2; exit }
    /^require[ \t]/ && $2 == m { print $3; exit }' "$1"
}

# apt-get options that wait for another apt run's lock (up to 15 minutes) instead of failing:
# CI builds toolchains in the background while its own steps install packages.
# shellcheck disable=SC2034 # used by the scripts that source this file
APT_WAIT=(-o DPkg::Lock::Timeout=900)
