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

.PHONY: demo test bench bench-walkthrough check-fmt clippy doc check-light test-rust test-benches test-emulator venv nginx

# The whole walkthrough against the local emulator (moto + the test extension), with a
# real nginx on [::1] standing in for a pod, then teardown.
demo: venv nginx
	$(CARGO) run -q --all-features -p eks6-tests --bin eks6-demo

test: venv nginx check-fmt clippy doc check-light test-rust test-benches test-emulator
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

# Debian's nginx, for the IPv6 probe tests and the demo.
nginx:
	@test -x /usr/sbin/nginx || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null)

bench:
	$(CARGO) bench -p eks6-benches --bench net

# up + verify + down against the emulator, 5 times: median wall time and API calls per step.
bench-walkthrough: venv nginx
	$(CARGO) run -q --all-features -p eks6-tests --bin eks6-demo -- --bench 5
