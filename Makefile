# Thin front door over CMake presets (CMakePresets.json) and scripts/. Every target installs
# what is missing first, so a fresh Debian 12 machine needs only `make demo` or `make test`.

PRESET ?= debug
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
BUILD_DIR = build/$(PRESET)

.PHONY: all deps configure build test asan demo bench fuzz fmt lint clean help

all: build

help:
	@echo "make demo    build and run the demo (release build)"
	@echo "make test    install dependencies, build, run every test (PRESET=debug|release|asan)"
	@echo "make asan    the test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make bench   run every benchmark in bench/ (release build); prints RESULT lines"
	@echo "make fuzz    run every fuzz target for FUZZ_SECONDS seconds (clang + libFuzzer)"
	@echo "make fmt     clang-format the tree;  make lint  check format and run clang-tidy"
	@echo "make deps    install the Debian packages the project needs"

deps:
	@bash scripts/install-deps.sh

configure: deps
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

asan:
	$(MAKE) test PRESET=asan

# The demo needs only the binaries (lunal, lunald and the instance agent), not the test suite.
demo: deps
	@test -f build/release/build.ninja || cmake --preset release
	cmake --build --preset release -j $(JOBS) --target lunal lunald lunald-instance
	@bash scripts/demo.sh build/release

bench:
	@$(MAKE) --no-print-directory build PRESET=release
	@bash scripts/run-benchmarks.sh build/release

fuzz: deps
	@test -f build/fuzz/build.ninja || cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	@bash scripts/run-fuzzers.sh build/fuzz $(FUZZ_SECONDS)

fmt:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

lint: configure
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror
	git ls-files 'src/*.cc' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf build
