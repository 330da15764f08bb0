# eks6: `make demo` runs the walkthrough on the local emulator; `make test` runs every check.
#
# One feature set (--workspace --all-features) for every cargo call, so the AWS SDK
# stack is compiled once per profile; the target directory lives under ~/.cache so
# later runs reuse it (a cold run still passes).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export CARGO_TARGET_DIR ?= $(HOME)/.cache/eks6/target
export CARGO_TERM_COLOR ?= never
CARGO ?= cargo
FEATURES := --workspace --all-features
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: test bench check-fmt clippy doc check-light test-rust test-benches test-emulator venv

test: check-fmt clippy doc check-light test-rust test-benches test-emulator
	@echo "make test: all checks passed"

check-fmt:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc $(FEATURES) --no-deps

# The address math must build without the AWS SDK.
check-light:
	$(CARGO) check -p eks6 --no-default-features

test-rust:
	$(CARGO) test $(FEATURES)

# Benches compile and run once each in test mode (no timing); `make bench` times them.
test-benches:
	$(CARGO) test $(FEATURES) --benches

test-emulator: venv
	$(PY) -m pytest -W error -q -p no:cacheprovider tests/emulator

venv: $(VENV)/.installed

$(VENV)/.installed: tests/emulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	touch $@

bench:
	$(CARGO) bench -p eks6-benches --bench net
