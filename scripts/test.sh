#!/usr/bin/env bash
# `npm test`: the whole suite. Unit tests, integration tests on real PostgreSQL (a fresh
# database per test file on TEST_DATABASE_URL's server), end-to-end tests in Chromium against
# a production build, then a smoke run of `npm start` on the embedded default. The benchmark
# runs short in between (it measures, it does not judge; it fails only if something breaks).
set -uo pipefail
cd "$(dirname "$0")/.."

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export NEXT_TELEMETRY_DISABLED=1
results=.custody/test-results
rm -rf "$results" && mkdir -p "$results"
status=0

echo "== unit and integration tests (Vitest) =="
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json" || status=1

echo "== benchmarks, smoke runs (npm run bench, bench:live, bench:sinks, bench:append, each -- --smoke) =="
npx tsx --conditions=react-server scripts/bench.ts --smoke --out "$results/bench.json" > "$results/bench.log" 2>&1
bench=$?
npx tsx --conditions=react-server scripts/bench-live.ts --smoke >> "$results/bench.log" 2>&1 || bench=1
npx tsx --conditions=react-server scripts/bench-sinks.ts --smoke >> "$results/bench.log" 2>&1 || bench=1
npx tsx --conditions=react-server scripts/bench-append.ts --smoke >> "$results/bench.log" 2>&1 || bench=1
grep -E '^  ' "$results/bench.log" || tail -n 5 "$results/bench.log"
[ "$bench" -eq 0 ] || status=1
echo "{\"passed\": $([ "$bench" -eq 0 ] && echo 1 || echo 0), \"failed\": $([ "$bench" -eq 0 ] && echo 0 || echo 1)}" > "$results/bench-status.json"

echo "== end-to-end tests (Playwright, Chromium) =="
# The run's output (with the e2e server's log) is kept for the secrets scan below; stale
# canaries and dumps from an earlier run are removed so the scan sees this run's only.
rm -f .custody/e2e/canaries.json .custody/e2e/database.sql
PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" npx playwright test --reporter=list,json 2>&1 | tee "$results/e2e.log" || status=1

echo "== secrets canary scan (the e2e run's log, its database dump, .next/static) =="
npx tsx scripts/secrets-scan.ts "$results/e2e.log"
scan=$?
[ "$scan" -eq 0 ] || status=1
echo "{\"passed\": $([ "$scan" -eq 0 ] && echo 1 || echo 0), \"failed\": $([ "$scan" -eq 0 ] && echo 0 || echo 1)}" > "$results/secrets-scan.json"

echo "== demo smoke run (npm start on the embedded default) =="
npx tsx --conditions=react-server scripts/smoke-demo.ts > "$results/smoke.log" 2>&1
smoke=$?
tail -n 5 "$results/smoke.log"
[ "$smoke" -eq 0 ] || status=1
echo "{\"passed\": $([ "$smoke" -eq 0 ] && echo 1 || echo 0), \"failed\": $([ "$smoke" -eq 0 ] && echo 0 || echo 1)}" > "$results/smoke.json"

node scripts/test-summary.mjs "$results" || status=1
exit "$status"
