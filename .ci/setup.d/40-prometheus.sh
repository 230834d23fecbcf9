# Sourced by .ci/run (as root, CI=true, no standard input): installs Debian's prometheus package when promtool is missing,
# so the test that runs 'promtool check rules' on docs/prometheus/isolation-rules.yml runs for real. Only the tool is
# needed: the prometheus service the package may start is stopped again (nothing here scrapes anything). Returns
# non-zero (and .ci/run fails) when promtool cannot be installed.

isolation_setup_prometheus() {
  if command -v promtool >/dev/null 2>&1; then
    echo "promtool already installed ($(promtool --version 2>&1 | head -n 1))"
    return 0
  fi

  echo "installing prometheus (for promtool)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
  # policy-rc.d 101: do not start the packaged service during the install (no init system in a container anyway).
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  local status=$?
  [ "$created" = 1 ] && rm -f "$policy"
  [ "$status" = 0 ] || return 1

  command -v promtool >/dev/null 2>&1 || { echo "prometheus installed but promtool is not on PATH"; return 1; }
  echo "promtool ready ($(promtool --version 2>&1 | head -n 1))"
}

isolation_setup_prometheus
