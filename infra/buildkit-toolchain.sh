#!/usr/bin/env bash
# Build BuildKit's daemon (buildkitd) and client (buildctl) from the Go module
# proxy (ordinary `go` client, no downloads of release archives) into a cache
# outside the repository, keyed by the BuildKit version. A warm cache returns at once.
#
# Usage:
#   infra/buildkit-toolchain.sh                   build if needed; last stdout line = bin dir
#   infra/buildkit-toolchain.sh --check           exit 0 if the cache is warm, 1 if cold; builds nothing
#   infra/buildkit-toolchain.sh --print-versions  print the version and the bin dir; builds nothing
#   Errors exit 2 (the version cannot be found, a module the proxy lacks, ...).
#
# The version is the one the docker-build Pulumi provider is built with
# (github.com/moby/buildkit in the go.mod of github.com/pulumi/pulumi-docker-build
# at the version infra/pulumi-toolchain.sh builds), so client libraries and
# daemon match. Module github.com/moby/buildkit, packages ./cmd/buildkitd and
# ./cmd/buildctl, CGO_ENABLED=0, -trimpath, version stamped into
# github.com/moby/buildkit/version.Version. The module's go.mod has `exclude`
# directives, so `go install pkg@version` refuses it: the build runs in a small
# wrapper module that requires it and restates them; dependencies resolve to the
# versions of BuildKit's own go.mod and are checked against its go.sum.
#
# Measured on 2 cores, empty GOCACHE, BuildKit v0.31.0: buildkitd 128 s, buildctl 3 s.
#
# Environment:
#   PYFLEET_BUILDKIT_VERSION  BuildKit version to build (default: the provider's, see above)
#   PYFLEET_TOOLS_CACHE       cache root (default: $HOME/.cache/pyfleet/tools);
#                             binaries go to <root>/buildkit-<version>/bin
#   PYFLEET_GOSUMDB           GOSUMDB for the build (default: off, as the checksum
#                             database is not reachable here; downloads are checked
#                             against BuildKit's go.sum, and the number of go.sum
#                             entries found nowhere is logged)
set -euo pipefail

readonly MODULE=github.com/moby/buildkit

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${PYFLEET_TOOLS_CACHE:-$HOME/.cache/pyfleet/tools}

log_prefix=buildkit-toolchain
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

mode=build
case "${1:-}" in
"") ;;
--check) mode=check ;;
--print-versions) mode=versions ;;
*) help_or_unknown "$1" ;;
esac

command -v go >/dev/null || die "go not found on PATH"
go_build_env

buildkit_version() {
  if [[ -n ${PYFLEET_BUILDKIT_VERSION:-} ]]; then
    echo "v${PYFLEET_BUILDKIT_VERSION#v}"
    return 0
  fi
  local db gomod v
  db=$(bash "$script_dir/pulumi-toolchain.sh" --print-versions | sed -n 's/^DOCKER_BUILD_VERSION=//p')
  [[ -n $db ]] || die "cannot read DOCKER_BUILD_VERSION from infra/pulumi-toolchain.sh --print-versions"
  gomod=$(go_mod_field "github.com/pulumi/pulumi-docker-build@v$db" GoMod) ||
    die "cannot download github.com/pulumi/pulumi-docker-build@v$db from the Go module proxy"
  [[ -f $gomod ]] || die "no go.mod for github.com/pulumi/pulumi-docker-build@v$db"
  v=$(go_required_version "$gomod" "$MODULE")
  [[ -n $v ]] || die "$gomod does not require $MODULE"
  echo "$v"
}

version=$(buildkit_version)
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]] || die "not a BuildKit version: $version"
dir=$cache_root/buildkit-$version
bin=$dir/bin

is_warm() {
  [[ -x $bin/buildkitd && -x $bin/buildctl ]] &&
    [[ $("$bin/buildkitd" --version 2>/dev/null) == *" $version "* || $("$bin/buildkitd" --version 2>/dev/null) == *" $version" ]]
}

case $mode in
versions)
  echo "BUILDKIT_VERSION=$version"
  echo "BUILDKIT_BIN=$bin"
  exit 0
  ;;
check)
  is_warm && exit 0
  exit 1
  ;;
esac

if is_warm; then
  echo "$bin"
  exit 0
fi

mkdir -p "$bin"
exec 9>"$dir/.lock"
flock 9 # one builder per version; a second caller waits, then finds the cache warm
if is_warm; then
  echo "$bin"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/buildkit-toolchain.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"' EXIT

start=$(date +%s)
log "downloading $MODULE@$version"
mdir=$(go_mod_field "$MODULE@$version" Dir) ||
  die "cannot download $MODULE@$version from the Go module proxy"
[[ -d $mdir ]] || die "no source directory for $MODULE@$version"
sum=$(go_mod_field "$MODULE@$version" Sum)
modsum=$(go_mod_field "$MODULE@$version" GoModSum)

# The wrapper module: requires BuildKit, restates its exclude and (module)
# replace directives, which only apply in a main module, and declares BuildKit's
# go version, which sets the GODEBUG defaults of the binaries as upstream has them.
w=$work/wrapper
mkdir -p "$w"
mod_go=$(awk '$1 == "go" { print $2; exit }' "$mdir/go.mod")
printf 'module pyfleet.local/tools/buildkit\n\ngo %s\n' "${mod_go:-$(go env GOVERSION | sed 's/^go//')}" >"$w/go.mod"
edits=(-require="$MODULE@$version")
while read -r kind old new; do
  case $kind in
  exclude) edits+=(-exclude="$old") ;;
  replace) edits+=(-replace="$old=$new") ;;
  esac
done < <(go mod edit -json "$mdir/go.mod" | awk '
  # go mod edit -json prints one field per line: collect Exclude and Replace entries.
  /"Exclude": \[/ { sect = "exclude"; next }
  /"Replace": \[/ { sect = "replace"; next }
  /^\t\]/ { sect = ""; next }
  sect != "" && /"Old": \{/ { side = "old"; next }
  sect != "" && /"New": \{/ { side = "new"; next }
  sect != "" && /"Path":/ { gsub(/[",]/, "", $2); p[side] = $2; if (sect == "exclude") p["path"] = $2; next }
  sect != "" && /"Version":/ { gsub(/[",]/, "", $2); v[side] = $2; if (sect == "exclude") v["path"] = $2; next }
  sect == "exclude" && /^\t\t\}/ { print "exclude", p["path"] "@" v["path"]; delete p; delete v; next }
  sect == "replace" && /^\t\t\}/ {
    # directory replacements (no version) apply to upstream checkouts only
    if (v["new"] != "") print "replace", p["old"] (v["old"] != "" ? "@" v["old"] : ""), p["new"] "@" v["new"]
    delete p; delete v; side = ""; next
  }')
(cd "$w" && go mod edit "${edits[@]}")
{
  cat "$mdir/go.sum"
  [[ -n $sum ]] && echo "$MODULE $version $sum"
  [[ -n $modsum ]] && echo "$MODULE $version/go.mod $modsum"
} | sort -u >"$w/go.sum"
cp "$w/go.sum" "$work/go.sum.upstream"

ldflags="-s -w -X $MODULE/version.Version=$version -X $MODULE/version.Package=$MODULE"
for cmd in buildkitd buildctl; do
  t0=$(date +%s)
  log "building $cmd $version"
  (cd "$w" && go build -trimpath -ldflags "$ldflags" -o "$bin/.$cmd.tmp" "$MODULE/cmd/$cmd") ||
    die "building $MODULE/cmd/$cmd@$version failed (a module the proxy lacks? set PYFLEET_BUILDKIT_VERSION to a neighbouring release)"
  mv -f "$bin/.$cmd.tmp" "$bin/$cmd"
  log "$cmd: built in $(($(date +%s) - t0)) s"
done
unchecked=$(sort -u "$w/go.sum" | comm -13 "$work/go.sum.upstream" - | wc -l)
log "$unchecked go.sum entries were not in BuildKit's go.sum"
is_warm || die "$bin/buildkitd does not report version $version"
log "BuildKit $version ready in $bin after $(($(date +%s) - start)) s"
echo "$bin"
