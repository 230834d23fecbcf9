# Sourced by .ci/run (as root, CI=true, no standard input): installs Debian's PostgreSQL, starts its cluster, creates
# the test role and database, and exports ISOLATION_TEST_POSTGRES for the tests. Safe to run again: what is already
# installed, running or created is left as it is. Returns non-zero (and .ci/run fails) when the server cannot be started.

isolation_setup_postgres() {
  local user=isolation_test password=isolation_test database=isolation_test
  local version port i

  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "installing postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
  fi

  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "no PostgreSQL server version found under /usr/lib/postgresql"
    return 1
  fi

  if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main >/dev/null || return 1
  fi

  port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
  if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start || return 1
  fi

  for i in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p "$port" || { echo "PostgreSQL $version did not accept connections on port $port"; return 1; }

  # Role and database: created once, password reset every time so a changed script still matches.
  su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1" <<SQL || return 1
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN;
  END IF;
END
\$\$;
ALTER ROLE $user WITH LOGIN PASSWORD '$password';
SQL
  if ! su postgres -c "psql -tA -p $port -c \"SELECT 1 FROM pg_database WHERE datname = '$database'\"" | grep -q 1; then
    su postgres -c "createdb -p $port -O $user $database" || return 1
  fi

  export ISOLATION_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=$user;Password=$password;Database=$database"
  echo "PostgreSQL $version ready on 127.0.0.1:$port (ISOLATION_TEST_POSTGRES exported)"
}

isolation_setup_postgres
