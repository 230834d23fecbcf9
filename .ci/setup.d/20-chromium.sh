# Sourced by .ci/run (as root, CI=true, no standard input): installs Debian's Chromium and its matching chromedriver for
# the dashboard's browser test (tests/Isolation.ChatServer.Tests). Never downloads a browser from anywhere else.
# Safe to run again: when both binaries are present nothing is installed; apt-get update runs only when the install
# cannot find the packages in the current lists. Returns non-zero (and .ci/run fails) when they cannot be installed.

isolation_setup_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
    return 0
  fi

  echo "installing chromium and chromium-driver"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; then
    # The package lists are missing or stale: refresh them once and try again.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null || return 1
  fi

  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "chromium or chromedriver missing after install (expected /usr/bin/chromium and /usr/bin/chromedriver)"
    return 1
  fi
  echo "chromium ready: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
}

isolation_setup_chromium
