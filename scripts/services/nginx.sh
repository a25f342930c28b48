#!/usr/bin/env bash
# nginx for the multi-replica tests: installs Debian's nginx if missing. Nothing is started here: each test
# writes its own configuration (deploy/nginx/peptalk.conf.template) and runs its own nginx on a free loopback port.
set -euo pipefail

say() { printf '==> [nginx] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

nginx_binary() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

if [ -z "$(nginx_binary)" ]; then
  say "installing Debian's nginx"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nginx >/dev/null
fi
say "ready: $("$(nginx_binary)" -v 2>&1)"
