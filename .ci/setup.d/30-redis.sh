# Sourced by .ci/run (as root, CI=true, no standard input): installs Debian's redis-server when it is missing and starts
# this project's OWN redis-server process (not the system service) on 127.0.0.1, on a free port, with a password, then
# exports ISOLATION_TEST_REDIS (a StackExchange.Redis configuration string) for the tests. Safe to run again: a server it
# started earlier that still answers is reused. Returns non-zero (and .ci/run fails) when the server cannot be started.

isolation_setup_redis() {
  local dir=/tmp/isolation-test-redis password=isolation_test port pid i

  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "installing redis-server"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null || return 1
  fi

  mkdir -p "$dir" || return 1

  # Reuse the server a previous run started, if it is still ours and still answers.
  if [ -s "$dir/port" ] && [ -s "$dir/redis.pid" ]; then
    port=$(cat "$dir/port")
    pid=$(cat "$dir/redis.pid")
    if kill -0 "$pid" 2>/dev/null && [ "$(redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning -a "$password" ping 2>/dev/null)" = "PONG" ]; then
      export ISOLATION_TEST_REDIS="127.0.0.1:$port,password=$password"
      echo "redis-server already running on 127.0.0.1:$port (pid $pid; ISOLATION_TEST_REDIS exported)"
      return 0
    fi
  fi

  # A free port: ask the kernel for one (bind to port 0), then hand it to redis-server.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null)
  if [ -z "$port" ]; then
    for i in $(seq 1 50); do
      port=$((20000 + RANDOM % 20000))
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 || break
    done
  fi

  rm -f "$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --requirepass "$password" --protected-mode yes \
    --save "" --appendonly no --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" || { echo "redis-server did not start (see $dir/redis.log)"; return 1; }

  for i in $(seq 1 50); do
    [ "$(redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning -a "$password" ping 2>/dev/null)" = "PONG" ] && break
    sleep 0.2
  done
  if [ "$(redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning -a "$password" ping 2>/dev/null)" != "PONG" ]; then
    echo "redis-server did not answer on 127.0.0.1:$port (see $dir/redis.log)"
    return 1
  fi

  echo "$port" > "$dir/port"
  export ISOLATION_TEST_REDIS="127.0.0.1:$port,password=$password"
  echo "redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') ready on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"); ISOLATION_TEST_REDIS exported)"
}

isolation_setup_redis
