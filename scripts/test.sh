#!/usr/bin/env bash
# The whole test suite, the same way everywhere (README, CI, a developer's machine):
# installs what is missing, brings up RabbitMQ, Postgres and Redis, builds, runs every jest
# test against the real services, and ends with the line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh || exit 1
bash scripts/infra-up.sh || { echo "infrastructure did not come up"; echo "0 passed, 1 failed"; exit 1; }
npm run --silent typecheck || { echo "build or type-check failed"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p .test-logs
rm -f .test-logs/jest.json
npx jest --ci --json --outputFile=.test-logs/jest.json "$@"
status=$?
node -e '
  const fs = require("fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(".test-logs/jest.json", "utf8")); } catch { console.log("0 passed, 1 failed"); process.exit(0); }
  const failedSuites = r.numFailedTestSuites + (r.numRuntimeErrorTestSuites || 0);
  const failed = r.numFailedTests + (r.numFailedTests === 0 ? failedSuites : 0);
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status
