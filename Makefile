# The two commands a new user needs: `make run` and `make test`.
# Everything else (setup, build flavours) is a step of those.

BUILD ?= build
JOBS ?= $(shell nproc)
ARGS ?=
BENCH_ARGS ?=

.PHONY: setup build run test test-fast bench clean

setup:
	bash scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# Builds and starts the server on 127.0.0.1:6379 (ARGS="--port 7000" to change).
run: build
	./$(BUILD)/sluice-server $(ARGS)

# Every test: unit, end-to-end with real clients, ASan/UBSan, TSan, fuzz.
test: setup
	bash scripts/test.sh

# Unit and end-to-end tests on the release build only.
test-fast: setup
	SLUICE_TEST_STAGES="layers build unit e2e node" bash scripts/test.sh

# Side-by-side benchmark against redis-server (Release build in build-release/),
# about 20 minutes (the snapshot section about 5 of them); results in
# bench/results/. BENCH_ARGS="--quick" for a smoke run, "--rounds 5", "--micro"
# to add the Google Benchmark binaries.
bench: setup
	/usr/bin/python3 bench/run.py $(BENCH_ARGS)

clean:
	rm -rf build build-asan build-tsan build-fuzz
