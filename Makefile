# Front door of the build: `make demo` on a fresh Debian machine installs
# what is missing, builds, and runs the example; `make test` runs all tests
# in a normal build and again under ASan+UBSan.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps demo test test-release test-asan export-venvs bench clean

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@bash scripts/install-deps.sh

demo: all
	$(BUILD)/snntb examples/fashion_mnist/config.ini

test: test-release test-asan

test-release: all export-venvs
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Best-effort: the cheap environment (.venv/export-sims: nir, Brian2, PyNN)
# in which the export tests run Brian2 and PyNN themselves; offline it says
# so and the tests skip (docs/deps.md).
export-venvs:
	@bash scripts/setup-export-venvs.sh --cheap

# The sanitizer pass skips tests labelled "long" (full-dataset accuracy
# runs); the release pass runs everything.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNNTB_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && SNNTB_QUICK=1 ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -LE long

bench: all
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
