#!/usr/bin/env bash
# Build the Pulumi Node.js language host (`pulumi-language-nodejs`), which a plain
# `pulumi up` (Pulumi.yaml, runtime nodejs, no Automation API) needs to run the
# TypeScript program, from the Go module proxy into a cache keyed by its version.
#
# Usage:
#   infra/language-host.sh            build if needed; last stdout line = its bin dir
#   infra/language-host.sh --check    exit 0 if built, 1 if not; builds nothing
#
#   PATH="$(infra/language-host.sh | tail -1):$(infra/pulumi-toolchain.sh | tail -1):$PATH" \
#     pulumi up --stack dev
#
# The host's own module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
# is not served by the Go module proxy at any version. Up to sdk v3.68.0 the host was a
# package inside github.com/pulumi/pulumi/sdk/v3, which the proxy serves: that is the host
# built here. It starts the program with the project's own node and @pulumi/pulumi, and
# runs pyfleet's TypeScript program with CLI 3.248.0. It is kept out of the toolchain's bin
# folder: the Automation API runs the program in-process and needs no host, and the CLI
# runs the policy pack through infra/bin/pulumi-analyzer-policy-nodejs.
#
# Environment:
#   PYFLEET_TOOLCHAIN_CACHE  cache root (default: $HOME/.cache/pyfleet/toolchain)
#   PYFLEET_GOSUMDB          GOSUMDB for the build (default: off; the upstream go.sum of
#                            sdk/v3 still checks every download)
set -euo pipefail

readonly RECIPE=1
readonly SDK_VERSION=v3.68.0

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=infra/lib/progress.sh
. "$script_dir/lib/progress.sh"
cache_root=${PYFLEET_TOOLCHAIN_CACHE:-$HOME/.cache/pyfleet/toolchain}

log_prefix=language-host
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

command -v go >/dev/null || die "go is required (go >= 1.26)"
go_version=$(go env GOVERSION)
out="$cache_root/parts/language-nodejs-${SDK_VERSION#v}_${go_version}_$(go env GOOS)-$(go env GOARCH)_r$RECIPE"

case ${1:-} in
--check)
  [[ -x $out/pulumi-language-nodejs ]]
  exit
  ;;
"") ;;
*) die "unknown argument: $1 (use --check or nothing)" ;;
esac

if [[ -x $out/pulumi-language-nodejs ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out"
exec 9>"$out.lock"
flock 9 # one builder per version; a second caller waits, then finds it built
if [[ -x $out/pulumi-language-nodejs ]]; then
  echo "$out"
  exit 0
fi

go_build_env
work=$(mktemp -d "${TMPDIR:-/tmp}/language-host.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
# sdk/v3 v3.68.0's own go.mod pins golang.org/x/text with a replace: restate it.
cat >"$work/go.mod" <<EOF
module pyfleet.local/toolchain/language-nodejs

go ${go_version#go}

require github.com/pulumi/pulumi/sdk/v3 $SDK_VERSION

replace golang.org/x/text => golang.org/x/text v0.3.6
EOF
sdk_dir=$(cd "$work" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@$SDK_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') ||
  die "cannot download github.com/pulumi/pulumi/sdk/v3@$SDK_VERSION from the Go module proxy"
[[ -f $sdk_dir/go.sum ]] && cp "$sdk_dir/go.sum" "$work/go.sum"

build() {
  mkdir -p "$out"
  (cd "$work" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$SDK_VERSION" \
    -o "$out/.pulumi-language-nodejs.tmp" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)
  mv -f "$out/.pulumi-language-nodejs.tmp" "$out/pulumi-language-nodejs"
}
log "building pulumi-language-nodejs from sdk/v3 $SDK_VERSION"
progress_run language-nodejs "$cache_root/timings.txt" build
log "done: $out"
echo "$out"
