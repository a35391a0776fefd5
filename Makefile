# The first two commands of the README: `make demo` and `make test` (Debian, root).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# prometheus: for its promtool, which checks and unit-tests the alert rules (tests/monitoring); openssl:
# tests/sops/test_takeover.py makes a site CA with it, as Pigsty does; faketime: tests/unit/test_clock.py runs the
# tests about time with the clock a year ahead; shellcheck: make lint checks every script etcdkit runs on hosts.
SYSTEM_PACKAGES := debootstrap systemd-container apt-utils iproute2 openssh-client openssl prometheus faketime shellcheck
POLICY_RC := /usr/sbin/policy-rc.d

.PHONY: setup demo test test-versions unit coverage lint bench lab-up lab-down

# System packages (once) and the virtualenv with pyinfra and the test tools. No service starts while
# they install (a policy-rc.d, unless the machine has one, as etcdkit does for etcd) and prometheus'
# server stays disabled: only its promtool is used.
setup: $(VENV)/.installed
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ ! -e $(POLICY_RC) ]; then trap 'rm -f $(POLICY_RC)' EXIT; printf '#!/bin/sh\nexit 101\n' >$(POLICY_RC); chmod 755 $(POLICY_RC); fi; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing || exit 1; \
		systemctl disable --quiet prometheus.service 2>/dev/null || true; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: setup
	bin/lab up
	$(BIN)/pyinfra -y inventories/lab.py deploys/create.py
	bin/etcd-status -i inventories/lab.py

# The unit suite runs once, under coverage; then the package, monitoring and lab tests (named: pytest's
# --ignore does not apply to the testpaths of pyproject.toml, so it ran the unit suite a second time).
test: setup lint coverage
	$(BIN)/pytest tests/package tests/monitoring tests/lab tests/sops

# The SOPs on the etcd versions `make test` leaves out (docs/versions.md), on the lab: not part of `make test`.
test-versions: setup
	$(BIN)/pytest tests/versions

unit: setup
	$(BIN)/pytest tests/unit

# The SOPs' wiring (etcdkit/sops.py, etcdkit/tasks/) is tested in-process by tests/unit/test_sop_*.py:
# their line coverage by the unit suite stays at 90% or more. The suite runs with the clock a year ahead,
# as it must pass on any day (tests/unit/test_clock.py).
coverage: setup
	faketime -f +400d $(BIN)/pytest tests/unit -q -p no:cacheprovider --cov=etcdkit.sops --cov=etcdkit.tasks --cov-report=term --cov-fail-under=90

# ruff's formatter and linter, and mypy on the model and the plans, as configured in pyproject.toml; shellcheck
# on every shell script of templates/scripts/ as etcdkit renders it (with sample values: tests/unit/scripts.py) and
# on the tests' stand-in
lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy etcdkit/model etcdkit/plans
	@folder=$$(mktemp -d) && trap 'rm -rf "$$folder"' EXIT && $(BIN)/python -m tests.unit.scripts "$$folder" && \
		shellcheck --shell=sh "$$folder"/*.sh tests/unit/stand_ins/program && echo "shellcheck: $$(ls "$$folder" | wc -l) scripts checked"

# The benchmark (issue 19), on the lab and not part of `make test`: etcdkit's SOPs against a floor of the same
# work (bench/floor.sh), BENCH_RUNS runs of each step; writes bench/results.json and docs/performance.md.
BENCH_RUNS ?= 3
bench: setup
	BENCH_RUNS=$(BENCH_RUNS) $(BIN)/python -m bench.run

lab-up: setup
	bin/lab up

lab-down:
	bin/lab down
