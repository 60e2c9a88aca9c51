#!/usr/bin/env bash
# Build crane, the registry client every registry operation of pyfleet goes through, from the
# Go module proxy (infra/go-tools.sh crane, which says more).
#
# Usage:
#   infra/crane.sh            build if needed; last stdout line = the crane binary
#   infra/crane.sh --check    exit 0 if built, 1 if not; builds nothing
set -euo pipefail
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case ${1:-} in
--check) exec bash "$script_dir/go-tools.sh" --check crane ;;
"") exec bash "$script_dir/go-tools.sh" crane ;;
*)
  echo "[crane] unknown argument: $1 (use --check or nothing)" >&2
  exit 2
  ;;
esac
