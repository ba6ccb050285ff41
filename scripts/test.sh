#!/bin/sh
# The README's test command: type-check, lint, format check, then every test under test/.
set -e
cd "$(dirname "$0")/.."
echo "== typecheck"; tsc --noEmit -p .
echo "== lint"; eslint --max-warnings=0 .
echo "== format"; prettier --check --log-level=warn .
echo "== tests"
exec node --test --test-concurrency="${FERRY_TEST_CONCURRENCY:-2}" --test-reporter=spec "test/**/*.test.ts"
