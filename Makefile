# eks6: `make demo` runs the walkthrough on the local emulator; `make test` runs every check.
#
# One feature set (--workspace --all-features) for every cargo call, so the AWS SDK
# stack is compiled once per profile; the target directory lives under ~/.cache so
# later runs reuse it (a cold run still passes).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export CARGO_TARGET_DIR ?= $(HOME)/.cache/eks6/target
export CARGO_TERM_COLOR ?= never
# The plans' locks of the test runs (and the demo) in the target directory, not in
# ~/.local/state/eks6.
export EKS6_STATE_DIR ?= $(CARGO_TARGET_DIR)/eks6-state
CARGO ?= cargo
FEATURES := --workspace --all-features
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
VECTORS ?= $(if $(EKS6_VECTORS),$(EKS6_VECTORS),tests/vectors/ipv6.json)
# Debian packages: apt-get as root, else through sudo.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: controlplane ctools check-vectors valgrind bench-python test-python test-python-lite header check-header test-c test-install cbindgen install demo test bench bench-walkthrough bench-demo check-fmt clippy doc check-light test-rust test-benches test-emulator venv nginx

# The whole walkthrough against the local emulator (moto + the test extension), with a
# real nginx on [::1] standing in for a pod, then teardown.
# Built with the workspace's one feature set (not `cargo run -p`, which would resolve the
# AWS SDK's features differently and compile part of it again after `make test`).
demo: venv nginx controlplane
	$(CARGO) build -q $(FEATURES)
	$(CARGO_TARGET_DIR)/debug/eks6-demo

test: venv nginx check-vectors check-fmt clippy doc check-light check-header test-rust test-benches test-emulator test-c test-python test-python-lite
	@echo "make test: all checks passed"

check-fmt:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings

doc:
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc $(FEATURES) --no-deps

# The address math must build without the AWS SDK.
check-light:
	$(CARGO) check -p eks6 -p eks6-ffi -p eks6-python --no-default-features

test-rust: controlplane
	$(CARGO) test $(FEATURES)

# Benches compile and run once each in test mode (no timing); `make bench` times them.
test-benches:
	$(CARGO) test $(FEATURES) --benches

test-emulator: venv
	$(PY) -m pytest -W error -q -p no:cacheprovider tests/emulator

venv: $(VENV)/.installed

$(VENV)/.installed: tests/emulator/requirements.txt python/requirements-dev.txt
	# Debian's python3 makes venvs only with python3-venv (ensurepip) installed.
	$(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && $(APT) update -qq && $(APT) install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV))
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt -r python/requirements-dev.txt
	touch $@

# The C++ compiler and pkg-config for the C tests (cc is there: Rust links with it).
ctools:
	@command -v $(CXX) >/dev/null && command -v pkg-config >/dev/null || ($(APT) update -qq && $(APT) install -y -qq g++ pkg-config >/dev/null)

# The copy of the shared address vectors matches the set, when it is beside the repository.
check-vectors:
	@if [ -f ../shared/vectors/ipv6.json ]; then cmp -s ../shared/vectors/ipv6.json tests/vectors/ipv6.json || \
		{ echo "tests/vectors/ipv6.json differs from ../shared/vectors/ipv6.json: copy the set over"; exit 1; }; fi

# The Kubernetes control plane of the tests and the demo (tests/controlplane: kube-apiserver,
# kube-controller-manager and kube-scheduler of one k8s.io/kubernetes release with an
# embedded etcd, and the documented kubelet and add-on harness), built with Go, its module
# and build caches under ~/.cache so later runs reuse them. Go builds only this test program.
GO ?= go
export GOMODCACHE ?= $(HOME)/.cache/eks6/go-mod
export GOCACHE ?= $(HOME)/.cache/go-build
export EKS6_CONTROLPLANE ?= $(CARGO_TARGET_DIR)/eks6-controlplane/controlplane

controlplane:
	cd tests/controlplane && $(GO) build -trimpath -o $(EKS6_CONTROLPLANE) .

# Debian's nginx, for the IPv6 probe tests and the demo.
nginx:
	@test -x /usr/sbin/nginx || ($(APT) update -qq && $(APT) install -y -qq nginx >/dev/null)

bench:
	$(CARGO) bench -p eks6-benches --bench net

# up and down on the emulator's time-based mode (AWS's usual durations x 0.01, the
# sample's rollout on the same clock) against the critical path of the same durations,
# then verify at 10, 100 and 1,000 nodes with 30 pods a node. Figures for
# benches/README.md; nothing asserts on speed.
bench-walkthrough: venv nginx controlplane
	$(CARGO) build -q $(FEATURES)
	$(CARGO_TARGET_DIR)/debug/eks6-bench graph --scale 0.01 --runs 3
	$(CARGO_TARGET_DIR)/debug/eks6-bench verify --nodes 10,100,1000 --pods-per-node 30

# up + verify + down against the emulator (describe-count mode), 5 times: median wall
# time and API calls per step.
bench-demo: venv nginx controlplane
	$(CARGO) build -q $(FEATURES)
	$(CARGO_TARGET_DIR)/debug/eks6-demo --bench 5

include fuzz/fuzz.mk

# --- the C ABI ---------------------------------------------------------------------
CBINDGEN_ROOT ?= $(HOME)/.cargo
CBINDGEN := $(CBINDGEN_ROOT)/bin/cbindgen
CBINDGEN_VERSION := 0.29.4
C_OUT := $(CARGO_TARGET_DIR)/eks6-c
SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer
CWARN := -Wall -Wextra -Werror
# What no log may hold (EKS6_LOG=trace): the test key id and secret (tests/emulator/harness.py),
# signatures, session tokens.
SECRET_MARKERS := AKIAEKS6TESTKEY00001|eks6TestSecret|Signature=|[Xx]-[Aa]mz-[Ss]ecurity-[Tt]oken|SessionToken|SecretAccessKey|AWS4-HMAC-SHA256

cbindgen: $(CBINDGEN)

$(CBINDGEN):
	$(CARGO) install --quiet --locked --root $(CBINDGEN_ROOT) cbindgen --version $(CBINDGEN_VERSION)

# include/eks6.h is generated from ffi/src/lib.rs and committed.
header: $(CBINDGEN)
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate eks6-ffi --output include/eks6.h ffi

check-header: $(CBINDGEN)
	@mkdir -p $(C_OUT)
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate eks6-ffi --output $(C_OUT)/eks6.h ffi
	@diff -u include/eks6.h $(C_OUT)/eks6.h || (echo "include/eks6.h is out of date: run make header" && exit 1)

# The C ABI from C11 under ASan/UBSan (leaks included): the address functions, then the
# workflow functions against the emulator; the address tests again under valgrind
# memcheck (no sanitizers); C++17 against the header; install + pkg-config. The library
# is built with the workspace's one feature set, so the AWS SDK is not rebuilt.
test-c: venv valgrind ctools
	rm -rf $(C_OUT)/prefix
	$(MAKE) --no-print-directory install PREFIX=$(C_OUT)/prefix FFI_PROFILE=dev FFI_BUILD="$(CARGO) build $(FEATURES)"
	$(PYTHON) tests/c/vectors.py $(VECTORS) $(C_OUT)/vectors.h
	$(CC) -std=c11 $(CWARN) $(SANITIZE) -g -I$(C_OUT)/prefix/include -I$(C_OUT) -Itests/c tests/c/test_net.c -o $(C_OUT)/test_net \
		-L$(C_OUT)/prefix/lib -leks6 -Wl,-rpath,$(C_OUT)/prefix/lib
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(C_OUT)/test_net
	$(CC) -std=c11 $(CWARN) $(SANITIZE) -g -pthread -I$(C_OUT)/prefix/include -Itests/c tests/c/test_workflow.c \
		-o $(C_OUT)/test_workflow -L$(C_OUT)/prefix/lib -leks6 -Wl,-rpath,$(C_OUT)/prefix/lib
	EKS6_LOG=trace ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(PY) tests/emulator/harness.py -- $(C_OUT)/test_workflow 2> $(C_OUT)/test_workflow.log \
		|| (cat $(C_OUT)/test_workflow.log; exit 1)
	@grep -q 'TRACE\|DEBUG' $(C_OUT)/test_workflow.log || (echo "EKS6_LOG=trace logged nothing" && exit 1)
	@! grep -n -E '$(SECRET_MARKERS)' $(C_OUT)/test_workflow.log || (echo "a credential in the log above" && exit 1)
	$(CC) -std=c11 $(CWARN) -O1 -g -I$(C_OUT)/prefix/include -I$(C_OUT) -Itests/c tests/c/test_net.c -o $(C_OUT)/test_net_vg \
		$(C_OUT)/prefix/lib/libeks6.a -Wl,--gc-sections -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
	valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		$(C_OUT)/test_net_vg
	$(CXX) -std=c++17 $(CWARN) $(SANITIZE) -I$(C_OUT)/prefix/include tests/c/test_cpp.cpp -o $(C_OUT)/test_cpp \
		-L$(C_OUT)/prefix/lib -leks6 -Wl,-rpath,$(C_OUT)/prefix/lib
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 $(C_OUT)/test_cpp
	$(MAKE) --no-print-directory test-install

# Debian's valgrind, for the memcheck run of the C tests.
valgrind:
	@command -v valgrind >/dev/null || ($(APT) update -qq && $(APT) install -y -qq valgrind >/dev/null)

# make install PREFIX=/some/dir: libeks6.so (SONAME libeks6.so.0), libeks6.a, eks6.h and
# eks6.pc. FFI_PROFILE=dev installs the debug build (the tests do, to share it);
# FFI_FEATURES=--no-default-features leaves the workflow functions (and the AWS SDK) out.
PREFIX ?= /usr/local
FFI_PROFILE ?= release
FFI_FEATURES ?=
FFI_BUILD ?= $(CARGO) build -p eks6-ffi --profile $(FFI_PROFILE) $(FFI_FEATURES)
FFI_DIR = $(CARGO_TARGET_DIR)/$(if $(filter dev,$(FFI_PROFILE)),debug,release)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

install:
	$(FFI_BUILD)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 0644 include/eks6.h $(DESTDIR)$(PREFIX)/include/eks6.h
	install -m 0755 $(FFI_DIR)/libeks6.so $(DESTDIR)$(PREFIX)/lib/libeks6.so.$(VERSION)
	ln -sf libeks6.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libeks6.so.0
	ln -sf libeks6.so.0 $(DESTDIR)$(PREFIX)/lib/libeks6.so
	install -m 0644 $(FFI_DIR)/libeks6.a $(DESTDIR)$(PREFIX)/lib/libeks6.a
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: eks6\nDescription: IPv6 EKS SDK and IPv6 address math (C ABI)\nVersion: %s\nCflags: -I$${includedir}\nLibs: -L$${libdir} -leks6\nLibs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc\n' \
		'$(PREFIX)' '$(VERSION)' > $(DESTDIR)$(PREFIX)/lib/pkgconfig/eks6.pc

# Install into a scratch prefix, then build a C program with pkg-config, shared and static.
test-install:
	PKG_CONFIG_PATH=$(C_OUT)/prefix/lib/pkgconfig $(CC) -std=c11 $(CWARN) tests/c/test_version.c -o $(C_OUT)/test_shared \
		$$(PKG_CONFIG_PATH=$(C_OUT)/prefix/lib/pkgconfig pkg-config --cflags --libs eks6) -Wl,-rpath,$(C_OUT)/prefix/lib
	$(C_OUT)/test_shared
	readelf -d $(C_OUT)/test_shared | grep -q 'Shared library: \[libeks6.so.0\]'
	$(CC) -std=c11 $(CWARN) tests/c/test_version.c -o $(C_OUT)/test_static \
		$$(PKG_CONFIG_PATH=$(C_OUT)/prefix/lib/pkgconfig pkg-config --cflags eks6) $(C_OUT)/prefix/lib/libeks6.a \
		$$(PKG_CONFIG_PATH=$(C_OUT)/prefix/lib/pkgconfig pkg-config --static --libs-only-l eks6 | sed 's/-leks6//')
	$(C_OUT)/test_static
	! readelf -d $(C_OUT)/test_static | grep -q libeks6

# --- the Python package -------------------------------------------------------------
# The extension in the dev profile, into the repository's venv, sharing the target dir.
test-python: venv
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --manifest-path python/Cargo.toml
	cd python && ../$(PY) -m pytest -W error -q -p no:cacheprovider tests
	cd python && ../$(PY) -m mypy.stubtest eks6._eks6 --allowlist tests/stubtest-allowlist.txt

# The address-only package (no workflows, no AWS SDK), installed the way the README tells
# users to: the address tests and the build test run against it.
LITE := $(CARGO_TARGET_DIR)/python-lite
test-python-lite: venv
	rm -rf $(LITE)
	MATURIN_PEP517_ARGS=--no-default-features $(PY) -m pip install --quiet --disable-pip-version-check --no-deps --target $(LITE) ./python
	cd $(LITE) && EKS6_EXPECT_WORKFLOW=0 PYTHONPATH=$(LITE) $(CURDIR)/$(PY) -m pytest -W error -q -p no:cacheprovider \
		$(CURDIR)/python/tests/test_net.py $(CURDIR)/python/tests/test_build.py

# eks6 beside ipaddress, with the release wheel in a venv of its own.
bench-python:
	$(PYTHON) -m venv $(CARGO_TARGET_DIR)/bench-venv
	$(CARGO_TARGET_DIR)/bench-venv/bin/pip install --quiet --disable-pip-version-check ./python
	$(CARGO_TARGET_DIR)/bench-venv/bin/python python/bench/bench_net.py
