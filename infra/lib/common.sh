#!/usr/bin/env bash
# What the infra/ scripts have in common. Set log_prefix, then source it:
#
#   log_prefix=cluster
#   # shellcheck source=infra/lib/common.sh
#   . "$script_dir/lib/common.sh"
#
#   log MESSAGE...   print `[<log_prefix>] MESSAGE...` to stderr
#   die MESSAGE...   log `error: MESSAGE...` and exit 2 (every error of these scripts exits 2)
#   usage            print the script's header comment (its usage text) to stderr
#
# All of it writes to stderr only: a script's stdout is kept for the lines other
# programs read (a bin dir, `KUBECONFIG=...`).

: "${log_prefix:?set log_prefix before sourcing infra/lib/common.sh}"
# The script that sources this file; its header comment is the usage text.
common_script=${BASH_SOURCE[1]}

log() { printf '[%s] %s\n' "$log_prefix" "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}
# The header comment: line 2 up to the script's `set -euo pipefail`, without the `# `.
usage() { sed -n '2,/^set -euo/p' "$common_script" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; }
