#!/usr/bin/env bash
# Build the Go tools pyfleet drives from the Go module proxy, each once, into a cache keyed by
# its version, the Go version and the platform:
#   crane        github.com/google/go-containerregistry: every registry operation (tag
#                lookups, registry-side tags, manifest reads); honours docker credential
#                helpers and token auth through $DOCKER_CONFIG
#   cosign       github.com/sigstore/cosign: signatures and attestations by digest
#   syft         github.com/anchore/syft: SBOMs of pushed images
#   osv-scanner  github.com/google/osv-scanner: the vulnerability gate, on an offline database
#
# Usage:
#   infra/go-tools.sh TOOL            build if needed; last stdout line = the binary
#   infra/go-tools.sh --check TOOL    exit 0 if built, 1 if not; builds nothing
#   infra/go-tools.sh --list          print each tool, its version and its cache folder
#
# Environment:
#   PYFLEET_TOOLS_CACHE        cache root (default: $HOME/.cache/pyfleet/tools)
#   PYFLEET_<TOOL>_VERSION     version to build (PYFLEET_CRANE_VERSION, PYFLEET_OSV_SCANNER_VERSION, ...)
#   PYFLEET_GOSUMDB            GOSUMDB for the builds (default: off)
set -euo pipefail

readonly RECIPE=1

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=infra/lib/progress.sh
. "$script_dir/lib/progress.sh"
cache_root=${PYFLEET_TOOLS_CACHE:-$HOME/.cache/pyfleet/tools}

log_prefix=go-tools
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

# tool -> package path and default version.
package_of() {
  case $1 in
  crane) echo github.com/google/go-containerregistry/cmd/crane ;;
  cosign) echo github.com/sigstore/cosign/v2/cmd/cosign ;;
  syft) echo github.com/anchore/syft/cmd/syft ;;
  osv-scanner) echo github.com/google/osv-scanner/v2/cmd/osv-scanner ;;
  *) return 1 ;;
  esac
}
default_version() {
  case $1 in
  crane) echo v0.22.1 ;;
  cosign) echo v2.6.5 ;;
  syft) echo v1.57.2 ;;
  osv-scanner) echo v2.5.0 ;; # v2.6 needs Go 1.27
  esac
}
readonly TOOLS=(crane cosign syft osv-scanner)

version_of() {
  local var
  var="PYFLEET_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')_VERSION"
  echo "${!var:-$(default_version "$1")}"
}

command -v go >/dev/null || die "go is required (go >= 1.26)"
folder_of() { # TOOL -> its cache folder
  local version
  version=$(version_of "$1")
  echo "$cache_root/$1-${version#v}_$(go env GOVERSION)_$(go env GOOS)-$(go env GOARCH)_r$RECIPE"
}

mode=build
case ${1:-} in
--check)
  mode=check
  shift
  ;;
--list)
  for tool in "${TOOLS[@]}"; do
    printf '%s\t%s\t%s\n' "$tool" "$(version_of "$tool")" "$(folder_of "$tool")"
  done
  exit 0
  ;;
"") die "name a tool: ${TOOLS[*]}" ;;
esac
tool=${1:-}
package_of "$tool" >/dev/null || die "unknown tool: $tool (known: ${TOOLS[*]})"
out=$(folder_of "$tool")
bin=$out/$tool

if [[ $mode == check ]]; then
  [[ -x $bin ]]
  exit
fi
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache_root"
exec 9>"$out.lock"
flock 9 # one builder per tool and version; a second caller waits, then finds it built
if [[ -x $bin ]]; then
  echo "$bin"
  exit 0
fi

go_build_env
version=$(version_of "$tool")
build() {
  mkdir -p "$out"
  # Installed beside, then moved: an interrupted build never leaves a binary that looks built.
  GOBIN="$out/.partial" go install -trimpath -ldflags "-s -w" "$(package_of "$tool")@$version"
  mv -f "$out/.partial/$tool" "$bin"
  rmdir "$out/.partial"
}
log "building $tool $version"
progress_run "$tool" "$cache_root/timings.txt" build ||
  die "cannot build $tool $version from the Go module proxy (see the output above)"
log "done: $bin"
echo "$bin"
