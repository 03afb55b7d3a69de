#!/usr/bin/env bash
# The whole test suite, the same way everywhere (README, CI, a developer's machine):
# installs what is missing, brings up RabbitMQ, Postgres and Redis, builds, runs every jest
# test against the real services, and ends with the line "N passed, N failed" (both jest runs
# summed: the parallel one, then tests/disruptive alone).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh --test-tools || exit 1
bash scripts/infra-up.sh || { echo "infrastructure did not come up"; echo "0 passed, 1 failed"; exit 1; }
# check = structure (dependencies, layers, cycles), prettier, build + tests type-check, eslint.
npm run --silent check || { echo "npm run check failed (structure, format, type-check or lint)"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p .test-logs
rm -f .test-logs/jest.json .test-logs/jest-disruptive.json
# 1. Everything that leaves the shared infrastructure alone (each file has its own database,
#    vhost and Redis db), in parallel.
CEB179_TEST_PHASE=parallel npx jest --selectProjects unit component e2e --ci --passWithNoTests --json --outputFile=.test-logs/jest.json "$@"
status=$?
# 2. tests/disruptive stop and restart the shared RabbitMQ, Postgres and Redis: alone, one at a time.
CEB179_TEST_PHASE=disruptive npx jest --selectProjects disruptive --ci --runInBand --passWithNoTests --json --outputFile=.test-logs/jest-disruptive.json "$@"
disruptive_status=$?
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0, suites = 0;
  for (const file of [".test-logs/jest.json", ".test-logs/jest-disruptive.json"]) {
    let r;
    try { r = JSON.parse(fs.readFileSync(file, "utf8")); } catch { failed += 1; suites += 1; continue; }
    const failedSuites = r.numFailedTestSuites + (r.numRuntimeErrorTestSuites || 0);
    passed += r.numPassedTests;
    failed += r.numFailedTests + (r.numFailedTests === 0 ? failedSuites : 0);
    skipped += r.numPendingTests + r.numTodoTests;
    suites += r.numTotalTestSuites;
  }
  if (suites === 0) { console.error("no tests found"); failed += 1; }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(failed > 0 ? 1 : 0);
'
summary_status=$?
if [ $status -ne 0 ]; then exit $status; fi
if [ $disruptive_status -ne 0 ]; then exit $disruptive_status; fi
exit $summary_status
