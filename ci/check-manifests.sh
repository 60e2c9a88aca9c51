#!/usr/bin/env bash
# Check rendered Kubernetes manifests offline with two independent tools:
#   kubeconform  strict schema validation against the pinned Kubernetes release
#                (unknown fields, wrong types, missing required fields are errors);
#   kube-score   reliability/security findings; tests turned off or on are listed, with the
#                reason for each, in ci/kube-score-tests.txt.
# Every *.yaml / *.yml file under <dir> is read (multi-document files are fine).
#
# Usage: ci/check-manifests.sh <dir>
#
# Exit status: 0 all clean; 1 a schema error, a CRITICAL kube-score finding, or no
# manifests under <dir>; 2 usage or tool failure. Installs the checkers first if the
# cache is cold (ci/install-checkers.sh; PYFLEET_TOOLS_CACHE picks the cache).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tests_file=$script_dir/kube-score-tests.txt

log() { printf '[check-manifests] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}

[[ $# -eq 1 ]] || die "usage: check-manifests.sh <dir>"
dir=$1
[[ -d $dir ]] || die "$dir is not a directory"

if ! "$script_dir/install-checkers.sh" --check; then
  log "checkers not installed yet: running ci/install-checkers.sh"
  "$script_dir/install-checkers.sh"
fi
# shellcheck source-path=SCRIPTDIR source=checkers-env.sh
. "$script_dir/checkers-env.sh"

mapfile -d '' files < <(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "check-manifests: FAIL no *.yaml or *.yml manifests under $dir"
  exit 1
fi

# --- kubeconform -----------------------------------------------------------------------
# {{.ResourceKind}} is the lower-cased kind, {{.KindSuffix}} "-<first group label>-<version>"
# ("-v1" for the core group): the layout ci/k8s-openapi-to-jsonschema.mjs writes.
# No other schema location is given, so nothing is ever downloaded, and a kind without a
# schema (a custom resource) is an error rather than silently skipped.
echo "== kubeconform $PYFLEET_KUBECONFORM_VERSION, Kubernetes $PYFLEET_K8S_VERSION schemas, strict"
kc_rc=0
kc_out=$(kubeconform -strict -summary -output text \
  -kubernetes-version "$PYFLEET_K8S_VERSION" \
  -schema-location "$PYFLEET_K8S_SCHEMA_DIR/{{.ResourceKind}}{{.KindSuffix}}.json" \
  "${files[@]}" 2>&1) || kc_rc=$?
printf '%s\n' "$kc_out"
kc_summary=$(grep '^Summary: ' <<<"$kc_out" | tail -1 || true)
kc_resources=$(sed -n 's/^Summary: \([0-9]*\) resources\{0,1\} found.*/\1/p' <<<"$kc_summary")
if [[ -z $kc_summary || $kc_rc -gt 1 ]]; then
  kc_status=FAIL
  kc_summary="kubeconform did not run to the end (exit $kc_rc)"
elif [[ ${kc_resources:-0} -eq 0 ]]; then
  kc_status=FAIL
  kc_summary="no Kubernetes objects in ${#files[@]} file(s) under $dir"
elif [[ $kc_rc -ne 0 ]]; then
  kc_status=FAIL
else
  kc_status=PASS
fi

# --- kube-score ------------------------------------------------------------------------
ks_args=(--output-format ci --color never --kubernetes-version "v${PYFLEET_K8S_VERSION%.*}")
ignored=()
enabled=()
while read -r action test_id rest || [[ -n ${action:-} ]]; do
  [[ -z ${action:-} || $action == \#* ]] && continue
  [[ -n ${test_id:-} && -z ${rest:-} ]] || die "$tests_file: expected '<ignore|enable> <test-id>', got '$action $test_id $rest'"
  case "$action" in
  ignore)
    ignored+=("$test_id")
    ks_args+=(--ignore-test "$test_id")
    ;;
  enable)
    enabled+=("$test_id")
    ks_args+=(--enable-optional-test "$test_id")
    ;;
  *) die "$tests_file: unknown action '$action' (ignore or enable)" ;;
  esac
done <"$tests_file"

echo "== kube-score $PYFLEET_KUBE_SCORE_VERSION (ignored: ${ignored[*]:-none}; enabled: ${enabled[*]:-none})"
ks_rc=0
ks_out=$(kube-score score "${ks_args[@]}" "${files[@]}" 2>&1) || ks_rc=$?
# OK and SKIPPED lines are noise; everything else (findings, errors) is shown.
grep -v -e '^\[OK\]' -e '^\[SKIPPED\]' -e '^$' <<<"$ks_out" || true
count() { grep -c "^\[$1\]" <<<"$ks_out" || true; }
ks_critical=$(count CRITICAL)
ks_warning=$(count WARNING)
ks_ok=$(count OK)
ks_skipped=$(count SKIPPED)
ks_summary="$ks_critical critical, $ks_warning warning, $ks_ok ok, $ks_skipped skipped"
if [[ $ks_critical -gt 0 ]]; then
  ks_status=FAIL
elif [[ $ks_rc -ne 0 ]]; then
  # kube-score exits 1 only for CRITICAL findings; anything else means it did not score.
  ks_status=FAIL
  ks_summary="kube-score did not score the manifests (exit $ks_rc)"
else
  ks_status=PASS
fi

echo "== summary (${#files[@]} file(s) under $dir)"
echo "kubeconform: $kc_status ${kc_summary#Summary: }"
echo "kube-score: $ks_status $ks_summary"
[[ $kc_status == PASS && $ks_status == PASS ]] || exit 1
