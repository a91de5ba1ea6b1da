#!/usr/bin/env bash
# Runs every sluice test stage and prints one summary line at the end.
#
# Stages (SLUICE_TEST_STAGES picks a subset, in this order):
#   layers no module includes one above it (scripts/check_layers.sh)
#   build  release build of the server, unit tests and benchmarks
#   unit   GoogleTest unit tests (ctest)
#   e2e    end-to-end tests: redis-py, redis-cli, redis-benchmark, raw sockets
#   node   end-to-end tests with ioredis and node-redis (RESP2 and RESP3)
#   bench  micro-benchmarks as a smoke test (results are not asserted)
#   asan   ASan+UBSan build: unit tests and end-to-end tests
#   tsan   TSan build: unit tests and the whole end-to-end suite
#   fuzz   libFuzzer runs over the RESP parser, the collection encodings, the
#          scripts' cmsgpack / struct decoders, the DUMP payload decoder and the
#          RDB value decoder
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STAGES=${SLUICE_TEST_STAGES:-"layers build unit e2e node bench asan tsan fuzz"}
JOBS=$(nproc)
PY=/usr/bin/python3  # Debian's Python, which has python3-redis and pytest
REPORTS="$ROOT/build/test-reports"
FUZZ_SECONDS=${SLUICE_FUZZ_SECONDS:-30}
rm -rf "$REPORTS" && mkdir -p "$REPORTS"

failed_stages=()
passed_stages=()
stage() {
  local name=$1
  shift
  echo
  echo "=== stage: $name ($(date +%H:%M:%S))"
  local start=$SECONDS
  if "$@"; then
    passed_stages+=("$name")
    echo "=== stage $name passed in $((SECONDS - start))s"
  else
    failed_stages+=("$name")
    echo "=== stage $name FAILED in $((SECONDS - start))s"
  fi
}
want() { [[ " $STAGES " == *" $1 "* ]]; }

configure() {  # configure DIR [cmake args...]
  local dir=$1
  shift
  # Explicit options: a reused build directory may have cached other values.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=ON -DSLUICE_SERVER=ON \
    -DSLUICE_BENCH=ON -DSLUICE_FUZZ=OFF -DSLUICE_SANITIZE= "$@" >/dev/null
}

build_release() {
  configure build && cmake --build build -j "$JOBS"
}
unit() {  # unit BUILD_DIR REPORT [ctest args]
  local dir=$1 report=$2
  shift 2
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" --output-junit "$REPORTS/$report.xml" "$@")
}
e2e() {  # e2e BINARY REPORT [pytest args]
  local bin=$1 report=$2
  shift 2
  SLUICE_SERVER="$ROOT/$bin" "$PY" -m pytest tests/e2e -q -p no:cacheprovider \
    --junitxml="$REPORTS/$report.xml" "$@"
}
node_e2e() {
  SLUICE_SERVER="$ROOT/build/sluice-server" node --test --test-reporter=spec \
    --test-reporter-destination=stdout --test-reporter=junit \
    --test-reporter-destination="$REPORTS/node.xml" tests/e2e/node/
}
bench_smoke() {
  local ok=0
  for b in build/bench/*_bench; do
    [ -x "$b" ] || continue
    "$b" --benchmark_min_time=0.01 >/dev/null || ok=1
  done
  return $ok
}
build_asan() {
  configure build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=address,undefined \
    -DSLUICE_BENCH=OFF -DCMAKE_CXX_FLAGS=-O1 && cmake --build build-asan -j "$JOBS"
}
asan() {
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  build_asan && unit build-asan unit-asan && e2e build-asan/sluice-server e2e-asan -m "not heavy"
}
tsan() {
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  # TSan's deadlock detector follows at most 64 locks held by one thread:
  # with 2 shards per database FLUSHALL (every shard of 16 databases) holds 32.
  configure build-tsan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=thread -DSLUICE_BENCH=OFF \
    -DCMAKE_CXX_FLAGS=-O1 && cmake --build build-tsan -j "$JOBS" &&
    unit build-tsan unit-tsan &&
    (export SLUICE_E2E_SERVER_ARGS="--shards 2" &&
      e2e build-tsan/sluice-server e2e-tsan -m "not heavy")
}
fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON \
    -DSLUICE_SERVER=OFF -DSLUICE_TESTS=OFF -DSLUICE_BENCH=OFF -DSLUICE_SANITIZE=address,undefined \
    >/dev/null && cmake --build build-fuzz -j "$JOBS" --target parser_fuzz collections_fuzz lua_libs_fuzz \
      dump_payload_fuzz rdb_value_fuzz &&
    for target in parser_fuzz collections_fuzz lua_libs_fuzz dump_payload_fuzz rdb_value_fuzz; do
      echo "== $target"
      ./build-fuzz/$target -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=4096 -print_final_stats=1 \
        >"build-fuzz/$target.log" 2>&1
      rc=$?
      tail -8 "build-fuzz/$target.log"
      [ "$rc" -eq 0 ] || return "$rc"
    done
}

want layers && stage layers bash scripts/check_layers.sh
want build && stage build build_release
want unit && stage unit unit build unit
want e2e && stage e2e e2e build/sluice-server e2e
want node && stage node node_e2e
want bench && stage bench bench_smoke
want asan && stage asan asan
want tsan && stage tsan tsan
want fuzz && stage fuzz fuzz

echo
"$PY" scripts/junit_summary.py "$REPORTS"/*.xml || true
echo "stages passed: ${passed_stages[*]:-none}; failed: ${failed_stages[*]:-none}"
total_tests=$("$PY" scripts/junit_summary.py --count "$REPORTS"/*.xml 2>/dev/null || echo "0 0")
read -r npass nfail <<<"$total_tests"
nfail=$((nfail + ${#failed_stages[@]}))
echo "tests: ${npass} passed, ${nfail} failed"
[ ${#failed_stages[@]} -eq 0 ]
