# kafkars: build, test, demo, bench, install.  `make help` lists the targets.
#
# Fresh Debian 12 machine (as root): `make demo`, `make test`. Both install what is missing
# first (scripts/install-deps.sh: apt packages, pip packages, Kafka jars from Maven Central).

SHELL := /bin/bash
CARGO ?= cargo
PYTHON := scripts/python.sh
LOGS := target/test-logs
RELEASE := target/release
# Extra pytest arguments, e.g. `make test PYTEST_ARGS='-m "not java"'`.
PYTEST_ARGS ?=
PHP_RUN_TESTS = $(firstword $(wildcard /usr/lib/php/*/build/run-tests.php))

export PATH := $(HOME)/.cargo/bin:$(PATH)

# Scripts and tests find the binaries under ./target. A CARGO_TARGET_DIR outside the clone
# (kept between CI runs for speed) is reached through a ./target symlink made here; when
# ./target already exists, cargo builds into it whatever CARGO_TARGET_DIR says.
ifneq ($(CARGO_TARGET_DIR),)
  ifeq ($(wildcard target),)
    $(shell mkdir -p "$(CARGO_TARGET_DIR)" && ln -s "$(CARGO_TARGET_DIR)" target)
  endif
endif
export CARGO_TARGET_DIR := $(CURDIR)/target

.PHONY: help deps build build-cli build-php test test-cargo test-pytest test-phpt test-phpt-valgrind demo bench install

help:
	@echo "make build    release build: $(RELEASE)/kafkars and $(RELEASE)/kafkars.so"
	@echo "make test     cargo tests, pytest interop suites, .phpt suite; ends with 'N passed, N failed'"
	@echo "make demo     start a broker on a temp dir, produce and consume, stop, clean up"
	@echo "make bench    kafkars broker vs Apache Kafka: throughput, latency, RSS, start-up"
	@echo "make install  install kafkars.so into PHP's extension dir with an ini file"

deps:
	@scripts/install-deps.sh

build: build-cli build-php

build-cli:
	$(CARGO) build --release -p kafkars-cli

# The extension needs PHP headers (php8.2-dev): built when php-config is present.
build-php:
	@if command -v php-config >/dev/null; then \
	  $(CARGO) build --release -p kafkars-php && \
	  cp $(RELEASE)/libkafkars_php.so $(RELEASE)/kafkars.so.tmp && \
	  mv $(RELEASE)/kafkars.so.tmp $(RELEASE)/kafkars.so; \
	else \
	  echo "build-php: php-config not found (apt-get install php8.2-dev); skipping kafkars.so"; \
	fi

# Every suite runs even if an earlier one failed; the summary sums them all and fails the
# target if any test failed (or a suite could not run).
test: deps
	@rm -rf $(LOGS) && mkdir -p $(LOGS)
	-@set -o pipefail; $(MAKE) --no-print-directory build 2>&1 | tee $(LOGS)/build.log; \
	  echo $$? > $(LOGS)/build.log.rc
	-@set -o pipefail; $(CARGO) fmt --all --check 2>&1 | tee $(LOGS)/fmt.log; \
	  echo $$? > $(LOGS)/fmt.log.rc
	-@$(MAKE) --no-print-directory test-cargo
	-@$(MAKE) --no-print-directory test-pytest
	-@$(MAKE) --no-print-directory test-phpt
	-@$(MAKE) --no-print-directory test-phpt-valgrind
	@$(PYTHON) scripts/test-summary.py build:$(LOGS)/build.log fmt:$(LOGS)/fmt.log \
	  cargo:$(LOGS)/cargo.log \
	  pytest:$(LOGS)/pytest.xml \
	  phpt:$(LOGS)/phpt.log phpt:$(LOGS)/phpt-valgrind.log

test-cargo:
	@mkdir -p $(LOGS)
	@set -o pipefail; KAFKARS_BIN=$(CURDIR)/$(RELEASE)/kafkars $(CARGO) test --no-fail-fast 2>&1 \
	  | tee $(LOGS)/cargo.log; \
	  echo $$? > $(LOGS)/cargo.log.rc

test-pytest:
	@mkdir -p $(LOGS)
	@KAFKARS_BIN=$(CURDIR)/$(RELEASE)/kafkars $(PYTHON) -m pytest tests -q \
	  --junitxml=$(LOGS)/pytest.xml --ignore=tests/test_groups_bench.py $(PYTEST_ARGS); echo $$? > $(LOGS)/pytest.xml.rc

# The .phpt suite gets a fresh broker in KAFKARS_BROKERS (tests that need one skip without it).
test-phpt:
	@mkdir -p $(LOGS)
	@if [ -f $(RELEASE)/kafkars.so ] && [ -n "$(PHP_RUN_TESTS)" ] && ls php/tests/*.phpt >/dev/null 2>&1; then \
	  set -o pipefail; NO_INTERACTION=1 KAFKARS_BIN=$(CURDIR)/$(RELEASE)/kafkars \
	    scripts/with-broker.sh php $(PHP_RUN_TESTS) -q \
	    -d extension=$(CURDIR)/$(RELEASE)/kafkars.so php/tests 2>&1 \
	    | tee $(LOGS)/phpt.log; echo $$? > $(LOGS)/phpt.log.rc; \
	else \
	  echo "test-phpt: no kafkars.so or no run-tests.php; .phpt suite not run"; \
	fi

# The memcheck subset (php/run-tests.sh --valgrind): valgrind errors (invalid reads/writes,
# leaks) make run-tests.php report the test as LEAK, which the summary counts as failed.
test-phpt-valgrind:
	@mkdir -p $(LOGS)
	@if [ -f $(RELEASE)/kafkars.so ] && command -v valgrind >/dev/null; then \
	  set -o pipefail; KAFKARS_BIN=$(CURDIR)/$(RELEASE)/kafkars \
	    scripts/with-broker.sh php/run-tests.sh --valgrind $(CURDIR)/$(RELEASE)/kafkars.so 2>&1 \
	    | tee $(LOGS)/phpt-valgrind.log; echo $$? > $(LOGS)/phpt-valgrind.log.rc; \
	else \
	  echo "test-phpt-valgrind: no kafkars.so or no valgrind; memcheck subset not run"; \
	fi

demo: deps build
	@scripts/demo.sh

# Broker vs Apache Kafka; client core vs kcat and kafkars.so vs PEER_EXT (php-rdkafka, if
# given); group rebalance time vs Apache Kafka. Each row prints the peer and the ratio.
bench: deps build
	@scripts/bench-broker.sh
	@KAFKARS_BIN=$(CURDIR)/$(RELEASE)/kafkars $(PYTHON) scripts/bench-clients.py
	@KAFKARS_BENCH=1 KAFKARS_BIN=$(CURDIR)/$(RELEASE)/kafkars $(PYTHON) -m pytest -q -s \
	  tests/test_groups_bench.py

install: build-php
	@test -f $(RELEASE)/kafkars.so || { echo "install: kafkars.so not built (needs php8.2-dev)"; exit 1; }
	@extdir=$$(php-config --extension-dir) && \
	  install -m 0755 $(RELEASE)/kafkars.so $$extdir/kafkars.so && \
	  scandir=$$(php --ini | sed -n 's/^Scan for additional .ini files in: //p') && \
	  if [ -n "$$scandir" ] && [ "$$scandir" != "(none)" ]; then \
	    echo "extension=kafkars.so" > $$scandir/20-kafkars.ini; \
	    echo "installed $$extdir/kafkars.so and $$scandir/20-kafkars.ini"; \
	  else \
	    echo "installed $$extdir/kafkars.so; add extension=kafkars.so to php.ini"; \
	  fi
