#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine or a used one: installs what is missing, builds,
# type-checks and lints, runs the unit tests, starts the real Kafka, PostgreSQL and Redis, and
# runs the end-to-end tests against them. Ends with one line "tests: N passed, N failed".
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
RESULTS="$ROOT/.local/test-results"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"

"$ROOT/infra/local/install.sh"
ensure_node_modules
build
say "type-checking"
npm run -s typecheck
say "linting (eslint with module boundaries, prettier)"
npx nx show projects >/dev/null
npx eslint . --max-warnings=0
npx prettier --check . --log-level=warn

status=0
say "unit tests"
npx jest --selectProjects unit --ci --json --outputFile="$RESULTS/unit.json" || status=1

"$ROOT/infra/local/start.sh"
if compgen -G "$RUN_DIR/*.pid" >/dev/null; then
  say "stopping the services scripts/up.sh started: they would answer the tests' Kafka requests too (run scripts/up.sh again afterwards)"
  stop_services
fi
"$ROOT/scripts/install-k8s-tools.sh" || status=1
say "end-to-end tests (real Kafka, PostgreSQL, Redis)"
npx jest --selectProjects e2e --runInBand --forceExit --ci --json --outputFile="$RESULTS/e2e.json" || status=1
say "console browser tests (Playwright in Debian's Chromium; the console was built with the rest)"
"$ROOT/scripts/install-browser.sh" && npx playwright test || status=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, suitesFailed = 0;
  for (const f of ["unit.json", "e2e.json"]) {
    const p = process.argv[1] + "/" + f;
    if (!fs.existsSync(p)) { suitesFailed++; continue; }
    const r = JSON.parse(fs.readFileSync(p, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; suitesFailed += r.numFailedTestSuites + r.numRuntimeErrorTestSuites;
  }
  // Playwright JSON report (playwright.config.ts): expected = passed, unexpected = failed.
  const pw = process.argv[1] + "/console/results.json";
  if (!fs.existsSync(pw)) suitesFailed++;
  else {
    const r = JSON.parse(fs.readFileSync(pw, "utf8"));
    passed += r.stats.expected + r.stats.flaky; failed += r.stats.unexpected; suitesFailed += (r.errors || []).length;
  }
  if (suitesFailed && !failed) failed = suitesFailed;
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(failed || passed === 0 ? 1 : 0);
' "$RESULTS" || status=1
exit $status
