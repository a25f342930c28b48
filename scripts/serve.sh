#!/usr/bin/env bash
# Installs what the service needs (first run: about 10 minutes) and serves the pep talk on the embedded SLM.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export HF_HUB_OFFLINE=1
echo "==> serving on http://${PEPTALK_HOST:-127.0.0.1}:${PEPTALK_PORT:-8000} (playground: /peptalk/playground/)"
exec .venv/bin/peptalk serve "$@"
