#!/usr/bin/env bash
# Proves every workspace package builds alone from a clean tree: for each package, deletes every
# dist/ in the checkout (what `git clean` would) and runs `tsc -b <package>`. A missing tsconfig
# reference or dependency declaration shows up here as a failed build. Slow (one build per package),
# so CI does not run it: `npm run structure` checks that every @ceb179 dependency has its reference,
# which is what makes this loop pass.
set -uo pipefail
cd "$(dirname "$0")/.."

clean() {
  find libs services simulators tools -mindepth 2 -maxdepth 2 -name dist -type d -prune -exec rm -rf {} +
}

failed=()
count=0
for dir in libs/*/ services/*/ simulators/*/ tools/*/; do
  pkg=${dir%/}
  [ -f "$pkg/tsconfig.json" ] || continue
  count=$((count + 1))
  clean
  started=$(date +%s)
  if output=$(npx tsc -b "$pkg" 2>&1); then
    echo "ok    $pkg ($(( $(date +%s) - started )) s)"
  else
    echo "FAIL  $pkg"
    echo "$output" | sed 's/^/      /'
    failed+=("$pkg")
  fi
done
clean
echo "built alone: $((count - ${#failed[@]})) of $count packages"
echo "run \`npm run build\` to build everything again"
[ ${#failed[@]} -eq 0 ]
