#!/usr/bin/env bash
# Redis for the tests: installs Debian's redis-server if missing, starts one on 127.0.0.1 (no disk persistence),
# and writes its URL to var/test-redis.url, which tests/redis.py reads (PEPTALK_TEST_REDIS_URL overrides it).
# Idempotent, and quick when the server already runs. The port is PEPTALK_TEST_REDIS_PORT (default 6390),
# or a free one when that is taken by something that is not our Redis.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PEPTALK_TEST_REDIS_PORT:-6390}
URL_FILE=var/test-redis.url
RUN_DIR=$PWD/var/redis

say() { printf '==> [redis] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
pong() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! command -v redis-server >/dev/null 2>&1; then
  say "installing Debian's redis-server"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
fi

# Reuse the server a previous run started (the URL file names it), if it still answers.
if [ -f "$URL_FILE" ]; then
  previous=$(sed -E 's#^redis://127\.0\.0\.1:([0-9]+).*#\1#' "$URL_FILE")
  if [[ "$previous" =~ ^[0-9]+$ ]] && pong "$previous"; then
    say "already running at 127.0.0.1:$previous (URL in $URL_FILE)"
    exit 0
  fi
fi

if port_busy "$PORT" && ! pong "$PORT"; then
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  say "port taken; using $PORT"
fi
if ! pong "$PORT"; then
  mkdir -p "$RUN_DIR"
  say "starting redis-server on 127.0.0.1:$PORT"
  redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --save '' --appendonly no \
    --daemonize yes --dir "$RUN_DIR" --pidfile "$RUN_DIR/redis-$PORT.pid" --logfile "$RUN_DIR/redis-$PORT.log"
  for _ in $(seq 50); do pong "$PORT" && break; sleep 0.1; done
  pong "$PORT" || { say "redis-server did not answer; see $RUN_DIR/redis-$PORT.log"; exit 1; }
fi
mkdir -p "$(dirname "$URL_FILE")"
echo "redis://127.0.0.1:$PORT/0" > "$URL_FILE"
say "ready at 127.0.0.1:$PORT (URL in $URL_FILE)"
