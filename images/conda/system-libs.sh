#!/usr/bin/env bash
# The system libraries a conda environment links to, from the environment itself (ldd over its
# ELF files), so the runtime stage carries exactly those and no hand-kept list can drift.
#
#   system-libs.sh packages PREFIX   Debian packages (one a line) that hold the libraries the
#                                    ELF files under PREFIX load from outside PREFIX; fails
#                                    naming any library that is found nowhere
#   system-libs.sh verify PREFIX     fails naming every library an ELF file under PREFIX
#                                    needs and cannot find (run in the runtime stage)
#
# Run in the builder stage (packages) and in the runtime stage (verify) of a conda image.
set -euo pipefail

mode=${1:?usage: system-libs.sh packages|verify PREFIX}
prefix=${2:?usage: system-libs.sh packages|verify PREFIX}
prefix=$(cd "$prefix" && pwd -P)

# `ldd` of every shared object and executable, as "<file>\t<dependency line>" lines. ldd runs
# the binaries' own dynamic loader; these are the environment's files, in a build stage.
scan() {
  local file
  find "$prefix" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' file; do
      # ELF files only: the magic bytes, not the name.
      [[ $(head -c 4 "$file" | od -An -c | tr -d ' ') == '177ELF' ]] || continue
      ldd "$file" 2>/dev/null | sed "s|^[[:space:]]*|$file\t|" || true
    done
}

lines=$(scan)
# A library vendored by auditwheel (<package>.libs/) may need a sibling without an RPATH to
# find it: the loader satisfies that name from the copy its consumer already loaded. ldd of the
# library alone says "not found"; a file of that name inside the prefix is what gets loaded.
vendored=$(find "$prefix" -type f -name '*.so*' -printf '%f\n' | sort -u)
missing=$(printf '%s\n' "$lines" | awk -F'\t' '$2 ~ /=> not found/ { split($2, a, " "); print a[1] "\t" $1 }' |
  sort -u | while IFS=$'\t' read -r lib needer; do
    grep -qxF "$lib" <<<"$vendored" || echo "$lib (needed by $needer)"
  done)
if [[ -n $missing ]]; then
  printf 'system-libs: libraries that the environment %s needs and that are found nowhere:\n' "$prefix" >&2
  printf '  %s\n' "$missing" >&2
  printf '%s\n' "Name their Debian packages in the app's build.aptPackages (installed in the builder" \
    "and the runtime), or add them to the conda channel." >&2
  exit 1
fi
[[ $mode == verify ]] && {
  echo "system-libs: every library the ELF files of $prefix need is found"
  exit 0
}
[[ $mode == packages ]] || {
  echo "system-libs: unknown mode $mode (packages or verify)" >&2
  exit 2
}

# Libraries resolved outside the prefix, and the Debian package holding each. The dynamic
# loader itself (ld-linux, listed without "=>") belongs to libc6, which every image has.
outside=$(printf '%s\n' "$lines" | awk -F'\t' '$2 ~ /=> \// { split($2, a, "=> "); split(a[2], b, " "); print b[1] }' |
  sort -u | while read -r lib; do
    real=$(readlink -f "$lib")
    case $real in "$prefix"/*) continue ;; esac
    echo "$lib"
  done)
# With merged /usr, dpkg knows a file by one of its names: ask for all of them at once (one
# read of dpkg's database), then take the first name dpkg knows for each library.
candidates() {
  local lib=$1 real
  real=$(readlink -f "$lib")
  printf '%s\n' "$lib" "$real" "/usr${lib#/usr}" "${lib#/usr}" "/usr${real#/usr}" "${real#/usr}"
}
declare -A owner_of=()
if [[ -n $outside ]]; then
  while IFS= read -r line; do
    # "package[:arch][, package...]: /path"
    owner_of[${line#*: }]=${line%%: *}
  done < <(for lib in $outside; do candidates "$lib"; done | sort -u | xargs dpkg-query -S 2>/dev/null || true)
fi
owners=()
unowned=()
for lib in $outside; do
  owner=""
  while read -r candidate; do
    owner=${owner_of[$candidate]:-}
    [[ -n $owner ]] && break
  done < <(candidates "$lib")
  if [[ -n $owner ]]; then owners+=("${owner%%[:,]*}"); else unowned+=("$lib -> $(readlink -f "$lib")"); fi
done
if [[ ${#unowned[@]} -gt 0 ]]; then
  printf 'system-libs: libraries the environment loads from outside %s that no Debian package holds:\n' "$prefix" >&2
  printf '  %s\n' "${unowned[@]}" >&2
  printf 'Package them in the conda channel, or install them from a Debian package here.\n' >&2
  exit 1
fi
printf '%s\n' "${owners[@]}" | sort -u
