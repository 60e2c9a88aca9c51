#!/usr/bin/env bash
# Progress for long build steps, shared by the infra/ build scripts. Source it, then:
#
#   progress_run PART TIMINGS_FILE COMMAND...
#
# runs COMMAND with its output going to the caller's stderr as usual, and while it runs
# prints a line to stderr at least every PYFLEET_PROGRESS_SECONDS (default 20) seconds:
#
#   [progress] kubernetes: 4m20s elapsed, about 2m30s left (last build took 6m50s)
#
# The duration of each successful run is recorded in TIMINGS_FILE (one `PART SECONDS`
# line per part), so the next cold build can say how long it should take. Returns the
# command's exit status.

progress_fmt() { # SECONDS -> 4m20s
  local s=$1
  if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

progress_last() { # PART TIMINGS_FILE -> seconds of the last recorded run, or nothing
  [[ -f $2 ]] || return 0
  awk -v part="$1" '$1 == part { s = $2 } END { if (s != "") print s }' "$2"
}

progress_run() {
  local part=$1 timings=$2
  shift 2
  local every=${PYFLEET_PROGRESS_SECONDS:-20} start last status ticker
  start=$(date +%s)
  last=$(progress_last "$part" "$timings")
  if [[ -n $last ]]; then
    printf '[progress] %s: started (last build took %s)\n' "$part" "$(progress_fmt "$last")" >&2
  else
    printf '[progress] %s: started (no earlier build recorded)\n' "$part" >&2
  fi
  (
    while sleep "$every"; do
      local now=$(($(date +%s) - start)) eta=""
      if [[ -n $last ]]; then
        if ((last > now)); then
          eta=", about $(progress_fmt $((last - now))) left (last build took $(progress_fmt "$last"))"
        else
          eta=", past the last build's $(progress_fmt "$last")"
        fi
      fi
      printf '[progress] %s: %s elapsed%s\n' "$part" "$(progress_fmt "$now")" "$eta" >&2
    done
  ) &
  ticker=$!
  status=0
  "$@" || status=$?
  kill "$ticker" 2>/dev/null
  wait "$ticker" 2>/dev/null || true
  local took=$(($(date +%s) - start))
  if ((status == 0)); then
    mkdir -p "$(dirname "$timings")"
    { grep -v "^$part " "$timings" 2>/dev/null || true; echo "$part $took"; } >"$timings.tmp"
    mv -f "$timings.tmp" "$timings"
    printf '[progress] %s: done in %s\n' "$part" "$(progress_fmt "$took")" >&2
  else
    printf '[progress] %s: failed after %s (exit %d)\n' "$part" "$(progress_fmt "$took")" "$status" >&2
  fi
  return "$status"
}
