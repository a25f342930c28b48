#!/usr/bin/env bash
# Installs everything the tests need (virtualenv, services), then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
for service in scripts/services/*.sh; do
  [ -e "$service" ] && bash "$service"
done
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# Every service above is part of the test command: a test that would skip (no PostgreSQL, no Chromium) fails.
export PEPTALK_TEST_REQUIRE_SERVICES=1
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
