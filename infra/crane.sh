#!/usr/bin/env bash
# Build crane (github.com/google/go-containerregistry/cmd/crane), the registry client every
# registry operation of pyfleet goes through (tag lookups, registry-side tags, manifest
# reads), from the Go module proxy into a cache keyed by its version. crane honours docker
# credential helpers and token auth through ~/.docker/config.json (or $DOCKER_CONFIG).
#
# Usage:
#   infra/crane.sh            build if needed; last stdout line = the crane binary
#   infra/crane.sh --check    exit 0 if built, 1 if not; builds nothing
#
# Environment:
#   PYFLEET_TOOLS_CACHE      cache root (default: $HOME/.cache/pyfleet/tools)
#   PYFLEET_CRANE_VERSION    version to build (default below)
#   PYFLEET_GOSUMDB          GOSUMDB for the build (default: off)
set -euo pipefail

readonly RECIPE=1
version=${PYFLEET_CRANE_VERSION:-v0.22.1}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=infra/lib/progress.sh
. "$script_dir/lib/progress.sh"
cache_root=${PYFLEET_TOOLS_CACHE:-$HOME/.cache/pyfleet/tools}

log_prefix=crane
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

command -v go >/dev/null || die "go is required (go >= 1.26)"
out="$cache_root/crane-${version#v}_$(go env GOVERSION)_$(go env GOOS)-$(go env GOARCH)_r$RECIPE"

case ${1:-} in
--check)
  [[ -x $out/crane ]]
  exit
  ;;
"") ;;
*) die "unknown argument: $1 (use --check or nothing)" ;;
esac

if [[ -x $out/crane ]]; then
  echo "$out/crane"
  exit 0
fi

go_build_env
build() {
  mkdir -p "$out"
  GOBIN="$out" go install -trimpath -ldflags "-s -w" \
    "github.com/google/go-containerregistry/cmd/crane@$version"
}
log "building crane $version"
progress_run crane "$cache_root/timings.txt" build ||
  die "cannot build crane $version from the Go module proxy (see the output above)"
log "done: $out/crane"
echo "$out/crane"
