# SafeClass: the commands a newcomer needs. `make help` lists them.
#
# Every target that runs code installs what is missing first (scripts/install.sh is quick
# when everything is there). Test tiers run one after the other, never in parallel.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.NOTPARALLEL:
.DEFAULT_GOAL := help

PORT ?= 8000
VENV := .venv
PYTHON := $(VENV)/bin/python
# Tests: a cheap password hasher (the real one dominates the run time), and no stale
# bytecode cache or pytest cache to confuse a fresh clone.
PYTEST := env SAFECLASS_FAST_PASSWORD_HASHER=1 $(VENV)/bin/pytest -p no:cacheprovider
# Integration tests share nothing between tests but the database server, so two workers
# (one per core) are safe; each gets a test database of its own.
XDIST := -n 2 --dist loadfile
TIER := bash scripts/tier.sh

.PHONY: help install run test lint test-unit test-integration test-postgres test-e2e bench clean

help:
	@echo "make run               install what is missing, migrate, add the demo school, serve on 127.0.0.1:$(PORT)"
	@echo "make test              everything CI runs: lint, unit, integration (SQLite and PostgreSQL), browser tests"
	@echo "make lint              ruff, mypy, and a check that docs/configuration.md lists every setting"
	@echo "make test-unit         the policy core and other pure code"
	@echo "make test-integration  Django, the real database (SQLite) and a real Janus"
	@echo "make test-postgres     the integration tests on a throwaway PostgreSQL server"
	@echo "make test-e2e          browser tests: Chromium against a running app server"
	@echo "make bench             run every bench/*.py script and print its figures"
	@echo "make install           install the Debian, Python and npm packages SafeClass needs"
	@echo "make clean             remove caches (keeps .venv, node_modules and the local database)"

install:
	@bash scripts/install.sh

run: install
	@SAFECLASS_PORT=$(PORT) bash scripts/run.sh

test: install lint test-unit test-integration test-postgres test-e2e
	@echo "==> make test: every tier passed."

lint: install
	@$(TIER) "lint (ruff)" $(VENV)/bin/ruff check .
	@$(TIER) "lint (mypy)" $(VENV)/bin/mypy safeclass
	@$(TIER) "lint (configuration docs)" $(PYTHON) scripts/check-config-docs.py

test-unit: install
	@$(TIER) "unit tests" $(PYTEST) tests/unit

test-integration: install
	@$(TIER) "integration tests on SQLite" $(PYTEST) $(XDIST) tests/integration

test-postgres: install
	@$(TIER) "integration tests on PostgreSQL" \
		bash scripts/with-postgres.sh $(PYTEST) $(XDIST) tests/integration

test-e2e: install
	@$(TIER) "browser tests" $(PYTEST) tests/e2e

bench: install
	@bash scripts/bench.sh

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis var/static
	find . -name __pycache__ -type d -not -path './.git/*' -prune -exec rm -rf {} +
