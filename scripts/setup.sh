#!/usr/bin/env bash
# Installs everything sluice's build, tests and benchmarks need, from Debian
# packages and (for the Node.js client tests) the committed npm lock file.
# Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build clang libclang-rt-14-dev
  libboost1.81-dev libabsl-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev libmimalloc-dev libjemalloc-dev
  liblua5.1-0-dev liblzf-dev libzstd-dev pkg-config
  redis-tools redis-server python3 python3-redis python3-pytest
  gnuplot-nox procps
  python3-rq python3-limits python3-celery ruby-sidekiq
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs npm); fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js clients for the end-to-end tests, pinned by package-lock.json.
if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
