#!/usr/bin/env bash
# PostgreSQL for the tests: installs Debian's server if missing, starts a cluster on 127.0.0.1, and creates
# the test role and database. Idempotent, and quick when the server already runs. Writes the SQLAlchemy URL
# to var/test-postgres.url, which tests/conftest.py reads (PEPTALK_TEST_POSTGRES_URL overrides it).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROLE=${PEPTALK_TEST_PG_ROLE:-peptalk_test}
PASSWORD=${PEPTALK_TEST_PG_PASSWORD:-peptalk_test}
DATABASE=${PEPTALK_TEST_PG_DATABASE:-peptalk_test}
URL_FILE=var/test-postgres.url

say() { printf '==> [postgres] %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  say "installing Debian's postgresql"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
fi

read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1) || true
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  cluster=main
  say "creating cluster $version/$cluster"
  as_root pg_createcluster "$version" "$cluster" >/dev/null
  read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1)
fi

if [ "$status" != "online" ]; then
  if port_busy "$port"; then
    # Something else holds the port: move the cluster to a free one.
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    say "port taken; moving cluster $version/$cluster to port $port"
    as_root pg_conftool "$version" "$cluster" set port "$port"
  fi
  say "starting cluster $version/$cluster on 127.0.0.1:$port"
  as_root pg_ctlcluster "$version" "$cluster" start
fi

psql_admin() { as_postgres psql --port "$port" --quiet --no-psqlrc --tuples-only --no-align "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  say "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  say "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi

PGPASSWORD=$PASSWORD psql "host=127.0.0.1 port=$port user=$ROLE dbname=$DATABASE" --quiet --no-psqlrc \
  --tuples-only -c 'SELECT 1' >/dev/null
mkdir -p "$(dirname "$URL_FILE")"
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE" > "$URL_FILE"
say "ready at 127.0.0.1:$port (URL in $URL_FILE)"
