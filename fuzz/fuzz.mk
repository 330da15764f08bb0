# Fuzzing (cargo-fuzz + libFuzzer, AddressSanitizer). Include from the main Makefile:
#
#     include fuzz/fuzz.mk
#
# `make fuzz` installs cargo-fuzz if missing, writes the seed corpora (fuzz/seed.py),
# builds the targets once, runs each for FUZZ_SECONDS (with fuzz/dict/<target>.dict as
# its dictionary where there is one), prints the executions each reached, and fails if
# any target found a crash, a leak or a timeout. Logs go to
# fuzz/artifacts/<target>.log, crash inputs to fuzz/artifacts/<target>/ (both
# git-ignored, as are fuzz/corpus and fuzz/target).
#
#     make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=plan
#     make fuzz FUZZ_BUILD_JOBS=1 FUZZ_NICE="nice -n 19"     # on a busy machine
#
# cargo fuzz passes -Z flags, which stable rustc takes only with RUSTC_BOOTSTRAP=1.
# The fuzz crate is a workspace of its own (address math and plan only, no AWS SDK)
# with its own target directory: CARGO_TARGET_DIR, which the main Makefile exports
# for the workspace, is overridden for every command here.

# The including Makefile's default goal, restored at the end: wherever this file is
# included, `make` alone still does what it did.
FUZZ_SAVED_GOAL := $(.DEFAULT_GOAL)
# This file's directory, however it is included.
FUZZ_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= parse_addr parse_prefix url plan
FUZZ_ARGS ?= -rss_limit_mb=2048 -max_len=4096 -timeout=5
FUZZ_BUILD_JOBS ?=
FUZZ_NICE ?=
FUZZ_PYTHON ?= python3
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ_ROOT ?= $(HOME)/.cargo
CARGO_FUZZ := $(CARGO_FUZZ_ROOT)/bin/cargo-fuzz
# What a failed run's log is summarised by: the sanitizer or libFuzzer error, the
# panic (and the message on the line after it), and where the input went.
FUZZ_FAILURE_LINES := ^(==[0-9]+== ?ERROR|SUMMARY|thread .* panicked|Base64:|artifact_prefix|Test unit written)

# The environment of every cargo command here: the fuzz crate's own target directory.
FUZZ_ENV = CARGO_TARGET_DIR=$(abspath $(FUZZ_DIR))/target RUSTC_BOOTSTRAP=1 \
	$(if $(FUZZ_BUILD_JOBS),CARGO_BUILD_JOBS=$(FUZZ_BUILD_JOBS))
FUZZ_CARGO = $(FUZZ_ENV) $(FUZZ_NICE) $(CARGO_FUZZ) fuzz

.PHONY: fuzz fuzz-tool fuzz-seed fuzz-build

fuzz-tool:
	@if [ "$$($(CARGO_FUZZ) fuzz --version 2>/dev/null)" != "cargo-fuzz $(CARGO_FUZZ_VERSION)" ]; then \
		echo "fuzz: installing cargo-fuzz $(CARGO_FUZZ_VERSION) into $(CARGO_FUZZ_ROOT)"; \
		env -u CARGO_TARGET_DIR $(if $(FUZZ_BUILD_JOBS),CARGO_BUILD_JOBS=$(FUZZ_BUILD_JOBS)) $(FUZZ_NICE) \
			$(or $(CARGO),cargo) install --quiet --locked --root $(CARGO_FUZZ_ROOT) cargo-fuzz --version $(CARGO_FUZZ_VERSION); \
	fi

fuzz-seed:
	$(FUZZ_PYTHON) $(FUZZ_DIR)/seed.py

fuzz-build: fuzz-tool
	$(FUZZ_CARGO) build --fuzz-dir $(FUZZ_DIR)

fuzz: fuzz-tool fuzz-seed fuzz-build
	@set -u; mkdir -p $(FUZZ_DIR)/artifacts; failed=""; \
	for t in $(FUZZ_TARGETS); do \
		log=$(FUZZ_DIR)/artifacts/$$t.log; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s (log $$log)"; \
		dict=""; if [ -f $(FUZZ_DIR)/dict/$$t.dict ]; then dict=-dict=$(FUZZ_DIR)/dict/$$t.dict; fi; \
		if $(FUZZ_CARGO) run --fuzz-dir $(FUZZ_DIR) $$t $(FUZZ_DIR)/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) $(FUZZ_ARGS) $$dict > $$log 2>&1; then \
			echo "fuzz: $$t: $$(grep -E '^Done [0-9]+ runs in [0-9]+ second' $$log | tail -1)"; \
		else \
			failed="$$failed $$t"; \
			echo "fuzz: $$t FAILED:"; \
			if grep -qE "$(FUZZ_FAILURE_LINES)" $$log; then \
				awk '/$(FUZZ_FAILURE_LINES)/ { print "    " $$0 } / panicked at / { getline; print "    " $$0 }' $$log; \
			else tail -n 20 $$log | sed 's/^/    /'; fi; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed (inputs under $(FUZZ_DIR)/artifacts/<target>/)"; exit 1; fi; \
	echo "fuzz: no crash, leak or timeout in $(words $(FUZZ_TARGETS)) target(s)"

.DEFAULT_GOAL := $(FUZZ_SAVED_GOAL)
