#!/usr/bin/env bash
# Installs what the service needs (first run: about 10 minutes) and serves the pep talk on the embedded SLM.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export HF_HUB_OFFLINE=1
# The embedded model on llama.cpp's llama-server (built by bootstrap.sh), which decodes concurrent users together;
# PEPTALK_EMBEDDED_ENGINE=inprocess keeps it in this process instead (docs/router.md).
export PEPTALK_EMBEDDED_ENGINE=${PEPTALK_EMBEDDED_ENGINE:-server}
# SmolLM2 ignores "keep it within 4 sentences": stop it after 4 (docs/router.md, "The sentence budget").
export PEPTALK_SENTENCE_BUDGET=${PEPTALK_SENTENCE_BUDGET:-4}
echo "==> serving on http://${PEPTALK_HOST:-127.0.0.1}:${PEPTALK_PORT:-8000} (playground: /peptalk/playground/)"
exec .venv/bin/peptalk serve "$@"
