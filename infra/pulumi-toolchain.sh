#!/usr/bin/env bash
# Build the Pulumi CLI and the provider plugins pyfleet needs from the Go module
# proxy (ordinary `go` client, no installers, no plugin downloads) into a cache
# outside the repository, keyed by their versions. A warm cache returns at once.
#
# Usage:
#   infra/pulumi-toolchain.sh                   build if needed; last stdout line = bin dir
#   infra/pulumi-toolchain.sh --check           exit 0 if the cache is warm, 1 if cold; builds nothing
#   infra/pulumi-toolchain.sh --print-versions  print versions and cache key; builds nothing
#   Errors exit 2 (a version missing from the tables below, a module the proxy lacks, ...).
#
#   bin=$(infra/pulumi-toolchain.sh | tail -1)
#   PATH="$bin:$PATH"   # provider binaries on PATH are used as ambient plugins
#
# Versions are read at run time from package-lock.json, so the engine and the
# plugins always match the npm SDKs the program is written against:
#   node_modules/@pulumi/pulumi       -> github.com/pulumi/pulumi/pkg/v3 (CLI)
#   node_modules/@pulumi/kubernetes   -> github.com/pulumi/pulumi-kubernetes/provider/v4
#   node_modules/@pulumi/docker-build -> github.com/pulumi/pulumi-docker-build
#
# Environment:
#   PYFLEET_TOOLCHAIN_CACHE  cache root (default: $HOME/.cache/pyfleet/toolchain)
#   PYFLEET_PACKAGE_LOCK     lockfile to read (default: package-lock.json of this repo)
#   PYFLEET_GOSUMDB          GOSUMDB for the builds (default: off, as the checksum
#                            database is not reachable here; every download is still
#                            checked against the pinned sums below and the upstream
#                            go.sum files, and the number of go.sum entries found in
#                            neither is logged)
#
# Requirements: go >= 1.26 (docker-build 0.0.22 declares go 1.26.0), node, and a
# Go module proxy that serves the module versions named here. Measured on 2 cores
# with empty Go caches: CLI 186 s, kubernetes 404 s, docker-build 120 s (12 min in
# all), leaving 2.9 GiB in GOMODCACHE (the user's) and 7 GiB in pyfleet's own
# GOCACHE (infra/lib/common.sh's go_build_env). Builds are reproducible: two cold builds
# gave byte-identical binaries. Each build prints a progress line at least every 20 s
# with the time elapsed and the expected total from the last recorded build.
set -euo pipefail

readonly RECIPE=1 # bump when the build recipe changes, to start a fresh cache key

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=infra/lib/progress.sh
. "$script_dir/lib/progress.sh"
repo_root=$(cd "$script_dir/.." && pwd)
lockfile=${PYFLEET_PACKAGE_LOCK:-$repo_root/package-lock.json}
cache_root=${PYFLEET_TOOLCHAIN_CACHE:-$HOME/.cache/pyfleet/toolchain}

log_prefix=pulumi-toolchain
# shellcheck source=infra/lib/common.sh
. "$script_dir/lib/common.sh"

# The kubernetes provider module (provider/v4) has no version tags of its own:
# only pseudo-versions of commits exist, and only some are held by the proxy.
# Map the npm @pulumi/kubernetes version to a provider/v4 pseudo-version whose
# provider sources equal that release.
#
#   4.27.0: commit 867400a6a208 (2026-03-04, two days after the v4.27.0 release).
#           Its provider/ tree differs from the v4.27.0 release only in one
#           provider/go.mod line (require pulumi-kubernetes/sdk/v4 v4.26.0 ->
#           v4.27.0); the release build replaces sdk/v4 with the in-tree sdk of
#           v4.27.0, and this build requires sdk/v4 v4.27.0, so the compiled
#           sources are the same.
k8s_provider_version() {
  case "$1" in
  4.27.0) echo v4.0.0-20260304044920-867400a6a208 ;;
  *) return 1 ;;
  esac
}

# The CLI built for an @pulumi/pulumi version. Newer CLIs (3.276.0 seen) start a Node.js
# policy pack only through the Node.js language host (`pulumi-language-nodejs`), whose module
# the Go proxy does not serve, so they cannot run the policy pack here; CLI 3.248.0 still
# falls back to the `pulumi-analyzer-policy-nodejs` launcher in infra/bin. The Automation API
# of the newer SDK drives the 3.248.0 CLI unchanged. Set PYFLEET_PULUMI_CLI_VERSION to build
# another CLI (for example the SDK's own version, where a language host is installed).
cli_version() {
  if [[ -n ${PYFLEET_PULUMI_CLI_VERSION:-} ]]; then
    echo "$PYFLEET_PULUMI_CLI_VERSION"
    return
  fi
  case "$1" in
  3.276.0) echo 3.248.0 ;;
  *) echo "$1" ;;
  esac
}

# docker-build 0.0.22 pins pulumi-java v1.29.0 and pulumi-language-dotnet v3.107.0,
# which the proxy does not hold. The provider imports them only for the C#/Java
# package metadata in its schema. The nearest versions it holds need a newer
# pulumi/pkg than pulumi-go-provider v1.3.2 compiles against, so raise all three
# together, as upstream did after 0.0.22 (pulumi/pkg v3.256.0, go-provider
# v1.5.0). buildx, buildkit and the docker client keep the versions of 0.0.22.
docker_build_extra_requires() {
  case "$1" in
  0.0.22)
    echo github.com/pulumi/pulumi-go-provider@v1.5.0
    echo github.com/pulumi/pulumi-java@v1.34.0
    echo github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3@v3.110.0
    ;;
  esac
}

# Checksums (go.sum lines) of the modules named here, checked by `go` when they
# are downloaded; all but docker-build, kubernetes/sdk/v4 and pkg/sdk v3.276.0 were
# compared with an upstream go.sum that records them (those were recorded on first
# download). Every other dependency is checked
# against the go.sum files of these modules.
pinned_sums() {
  cat <<'EOF'
github.com/pulumi/pulumi/pkg/v3 v3.248.0 h1:MkvI29cYE3QUEvSl+7kZrV5lQ6CBIt54WjYt2HEXDSg=
github.com/pulumi/pulumi/pkg/v3 v3.248.0/go.mod h1:NBqXwZgQ9XVbqBQrxzrPPHttFCXg2Qe9rIZP/0NGMOk=
github.com/pulumi/pulumi/sdk/v3 v3.248.0 h1:TwY9uuToQO8xIey4a7awRzNX7iJ/doDmZkl1MzxULCE=
github.com/pulumi/pulumi/sdk/v3 v3.248.0/go.mod h1:67RnWlA0uRHJKjbOkk1Hqz8BNefYv8csNLgln1EmmII=
github.com/pulumi/pulumi/pkg/v3 v3.276.0 h1:RKovVWNh+H8qnmbv88QZWirM/HmfBqR28rbnRN3n6FA=
github.com/pulumi/pulumi/pkg/v3 v3.276.0/go.mod h1:uM3JWZ2l7UhbY+gFQjGQdkHOBCVsXmvza+TY9fu/CNE=
github.com/pulumi/pulumi/sdk/v3 v3.276.0 h1:xkrmwkmAaHC2wilul4RTcPVrGfA6yQetstZpeQrvRWI=
github.com/pulumi/pulumi/sdk/v3 v3.276.0/go.mod h1:WnPO90tGSd4h5BDTfK4BeDZ/b2Rsq7bhZ2yEcfvScEc=
github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260304044920-867400a6a208 h1:BUm20m00zERoF+LAaKFWYCHSpFpywU3Sno5TzwnbLHg=
github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260304044920-867400a6a208/go.mod h1:hzv6xNPgPLwh0lF24kn7QdWdQf5iCOQMvnNYVmioqSQ=
github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.27.0 h1:l33vcOD62jlEIiD/POknlKrVF4JG2ZV87khzavYwkR0=
github.com/pulumi/pulumi-kubernetes/sdk/v4 v4.27.0/go.mod h1:B998wofejDKAvvpLwsi4UMfWDFHHBnzYiM8mZ9e7OSo=
github.com/pulumi/pulumi-docker-build v0.0.22 h1:cT9hZcg16hy21mBHxdt2/+zQKcGc2ic1zeMpfefJCqU=
github.com/pulumi/pulumi-docker-build v0.0.22/go.mod h1:gytVeWOk6ptkkX1NtUA7Eg+FP6EInmlYSgOeqmVQTZQ=
github.com/pulumi/pulumi-go-provider v1.5.0 h1:xsqbkdrbSWGKp4KcdKJJfzD0MuqDDR8X0PAc8FOdAF8=
github.com/pulumi/pulumi-go-provider v1.5.0/go.mod h1:Aa9+QSfufi0VMM/dJLLqFf7M6CWThMV8/slOcoD3JVU=
github.com/pulumi/pulumi-java v1.34.0 h1:UiwcJfvb8dFu90Ey50Q+gCRQGiczfaX4n9e63VkEwBU=
github.com/pulumi/pulumi-java v1.34.0/go.mod h1:/tqIv+dbepDGuaGtlEOFb83Fgko4uE783VeGN7BVeg8=
github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3 v3.110.0 h1:3ZVrcJAP3ho1YSYT2n/UqlKBEjGY4ePfmjknjHXAXi0=
github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3 v3.110.0/go.mod h1:sZ26/AWTq2jYFcc26sTFK+1mKiGsOETeFltYqpBN7E4=
EOF
}

mode=build
case "${1:-}" in
"") ;;
--check) mode=check ;;
--print-versions) mode=versions ;;
*) help_or_unknown "$1" ;;
esac

command -v node >/dev/null || die "node is required (to read $lockfile)"
command -v go >/dev/null || die "go is required (go >= 1.26)"
[[ -f $lockfile ]] || die "no lockfile at $lockfile (run npm install first)"

# --- versions ---------------------------------------------------------------
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
read -r pulumi_version k8s_version docker_build_version < <(
  node -e '
    const lock = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const out = [];
    for (const name of ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/docker-build"]) {
      const entry = (lock.packages || {})["node_modules/" + name];
      if (!entry || !entry.version) {
        console.error(`[pulumi-toolchain] error: ${name} is not in ${process.argv[1]}`);
        process.exit(2);
      }
      out.push(entry.version);
    }
    console.log(out.join(" "));
  ' "$lockfile"
)
sdk_version=$pulumi_version
pulumi_version=$(cli_version "$sdk_version")
for v in "$pulumi_version" "$k8s_version" "$docker_build_version"; do
  [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected version '$v' in $lockfile"
done

k8s_module_version=$(k8s_provider_version "$k8s_version") ||
  die "no kubernetes provider module version known for @pulumi/kubernetes $k8s_version;" \
    "the provider/v4 module has no tags, so add '$k8s_version) echo v4.0.0-<commit time>-<commit>' to" \
    "k8s_provider_version in ${BASH_SOURCE[0]} (the proxy must hold that pseudo-version)" \
    "or pin @pulumi/kubernetes to one listed there (known: $(sed -n 's/^  \([0-9.]*\)) echo v4.*/\1/p' "${BASH_SOURCE[0]}" | paste -sd, -))"

{ read -r go_version; read -r go_os; read -r go_arch; } < <(go env GOVERSION GOOS GOARCH)
go_platform="$go_os-$go_arch"
key="pulumi-${pulumi_version}_kubernetes-${k8s_version}_docker-build-${docker_build_version}_${go_version}_${go_platform}_r${RECIPE}"
dir="$cache_root/$key"
bin="$dir/bin"
binaries=(pulumi pulumi-resource-kubernetes pulumi-resource-docker-build)
# Each binary is built into a folder keyed by its own version, so moving one of them
# (say the CLI) rebuilds only that one; bin/ links the three together.
declare -A part_key=(
  [pulumi]="pulumi-${pulumi_version}_${go_version}_${go_platform}_r${RECIPE}"
  [pulumi-resource-kubernetes]="kubernetes-${k8s_version}_${go_version}_${go_platform}_r${RECIPE}"
  [pulumi-resource-docker-build]="docker-build-${docker_build_version}_${go_version}_${go_platform}_r${RECIPE}"
)
part_bin() { echo "$cache_root/parts/${part_key[$1]}"; }
timings="$cache_root/timings.txt"

is_warm() {
  [[ -f $dir/complete ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x $bin/$b ]] || return 1; done
}

if [[ $mode == versions ]]; then
  printf '%s\n' \
    "PULUMI_VERSION=$pulumi_version" \
    "PULUMI_SDK_VERSION=$sdk_version" \
    "KUBERNETES_VERSION=$k8s_version" \
    "KUBERNETES_PROVIDER_MODULE_VERSION=$k8s_module_version" \
    "DOCKER_BUILD_VERSION=$docker_build_version" \
    "GO_VERSION=$go_version" \
    "TOOLCHAIN_BIN=$bin" \
    "TOOLCHAIN_KEY=$key"
  exit 0
fi

if [[ $mode == check ]]; then
  if is_warm; then
    log "warm: $bin"
    echo "$bin"
    exit 0
  fi
  log "cold: $bin"
  exit 1
fi

if is_warm; then
  log "cache is warm: $bin"
  echo "$bin"
  exit 0
fi

# --- build ------------------------------------------------------------------
mkdir -p "$bin"
exec 9>"$dir/.lock"
flock 9 # one builder per key; a second caller waits, then finds the cache warm
if is_warm; then
  echo "$bin"
  exit 0
fi

go_build_env

work_root=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-toolchain.XXXXXX")
trap 'chmod -R u+w "$work_root" 2>/dev/null || true; rm -rf "$work_root"' EXIT

# new_wrapper NAME MODULE@VERSION...: a throw-away main module that requires the
# given modules, with their go.sum entries and module replacements. Sets wrapper
# to its directory and module_dir to the first module's directory in the module cache.
wrapper=
module_dir=
new_wrapper() {
  local name=$1 w
  shift
  w="$work_root/$name"
  mkdir -p "$w"
  printf 'module pyfleet.local/toolchain/%s\n\ngo %s\n' "$name" "${go_version#go}" >"$w/go.mod"
  pinned_sums >"$w/go.sum"
  local mv mdir first=
  for mv in "$@"; do
    (cd "$w" && go mod edit -require="$mv")
  done
  for mv in "$@"; do
    log "$name: downloading $mv"
    mdir=$(cd "$w" && go mod download -json "$mv" | node -e '
      const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
      if (j.Error || !j.Dir) { console.error(j.Error || "no Dir"); process.exit(1); }
      console.log(j.Dir);') || die "$name: cannot download $mv from the Go module proxy"
    [[ -n $first ]] || first=$mdir
    # Upstream go.sum: the checksums upstream verified for every dependency.
    if [[ -f $mdir/go.sum ]]; then cat "$mdir/go.sum" >>"$w/go.sum"; fi
    # Module-to-module replacements of the upstream go.mod apply only to its
    # own builds; restate them here (directory replacements are dropped).
    local r
    # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
    while IFS= read -r r; do
      if [[ -n $r ]]; then (cd "$w" && go mod edit -replace="$r"); fi
    done < <(go mod edit -json "$mdir/go.mod" | node -e '
      const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of j.Replace || []) {
        if (!r.New.Version) continue;
        const old = r.Old.Version ? `${r.Old.Path}@${r.Old.Version}` : r.Old.Path;
        console.log(`${old}=${r.New.Path}@${r.New.Version}`);
      }')
  done
  sort -u -o "$w/go.sum" "$w/go.sum"
  cp "$w/go.sum" "$w/go.sum.upstream"
  module_dir=$first
  wrapper=$w
}

# go_build NAME LDFLAGS_X TARGET: build TARGET in the wrapper into bin/NAME.
go_build() {
  local name=$1 xflag=$2 target=$3
  local out
  out=$(part_bin "$name")
  mkdir -p "$out"
  (cd "$wrapper" && go build -trimpath -ldflags "-s -w -X $xflag" -o "$out/.$name.tmp" "$target")
  mv -f "$out/.$name.tmp" "$out/$name"
  local unchecked
  unchecked=$(sort -u "$wrapper/go.sum" | comm -13 "$wrapper/go.sum.upstream" - | wc -l)
  log "$name: $unchecked go.sum entries were not in the pinned or upstream go.sum files"
}

timed() {
  local name=$1
  shift
  if [[ ! -x $(part_bin "$name")/$name ]]; then
    log "$name: building"
    progress_run "$name" "$timings" "$@"
  else
    log "$name: already built ($(part_bin "$name"))"
  fi
  ln -sfn "$(part_bin "$name")/$name" "$bin/$name"
}

build_pulumi() {
  # pkg/v3's go.mod replaces sdk/v3 with ../sdk: require both at one version.
  new_wrapper pulumi "github.com/pulumi/pulumi/pkg/v3@v$pulumi_version" \
    "github.com/pulumi/pulumi/sdk/v3@v$pulumi_version"
  go_build pulumi "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumi_version" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_kubernetes() {
  # provider/v4's go.mod replaces sdk/v4 with ../sdk: require the released sdk/v4.
  new_wrapper kubernetes "github.com/pulumi/pulumi-kubernetes/provider/v4@$k8s_module_version" \
    "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$k8s_version"
  local src="$module_dir/cmd/pulumi-resource-kubernetes"
  [[ -f $src/generate.go ]] || die "kubernetes: $src/generate.go not found; the embed step changed upstream"
  # main.go embeds schema-embed.json and terraform-mapping-embed.json, which
  # upstream generates before building: do the same in a writable copy.
  cp -R "$src" "$wrapper/cmd"
  chmod -R u+w "$wrapper/cmd"
  log "kubernetes: generating embedded schema"
  (cd "$wrapper/cmd" && VERSION=$k8s_version go run ./generate.go)
  go_build pulumi-resource-kubernetes \
    "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$k8s_version" ./cmd
}

build_docker_build() {
  local extra
  mapfile -t extra < <(docker_build_extra_requires "$docker_build_version")
  new_wrapper docker-build "github.com/pulumi/pulumi-docker-build@v$docker_build_version" "${extra[@]}"
  go_build pulumi-resource-docker-build \
    "github.com/pulumi/pulumi-docker-build/provider.Version=$docker_build_version" \
    github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build
}

log "building into $dir"
timed pulumi build_pulumi
timed pulumi-resource-kubernetes build_kubernetes
timed pulumi-resource-docker-build build_docker_build

got=$("$bin/pulumi" version)
[[ $got == "v$pulumi_version" ]] || die "built pulumi reports '$got', expected v$pulumi_version"

{
  echo "pulumi $pulumi_version github.com/pulumi/pulumi/pkg/v3@v$pulumi_version"
  echo "kubernetes $k8s_version github.com/pulumi/pulumi-kubernetes/provider/v4@$k8s_module_version"
  echo "docker-build $docker_build_version github.com/pulumi/pulumi-docker-build@v$docker_build_version" \
    "$(docker_build_extra_requires "$docker_build_version" | paste -sd' ' -)"
  echo "go $go_version $go_platform"
} >"$dir/versions.txt"
touch "$dir/complete"
log "done: $bin"
echo "$bin"
