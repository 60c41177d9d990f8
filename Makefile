# egov-mesh — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
# recursive (=): looked up when used, so a uv that bootstrap just installed is found
UV = $(shell command -v uv 2>/dev/null || { [ -x $(HOME)/.local/bin/uv ] && echo $(HOME)/.local/bin/uv; } || echo python3 -m uv)
PYTEST_ARGS ?=

.PHONY: help bootstrap browsers run test lint typecheck unit bench kafka-start kafka-stop stop clean

help:
	@echo "make run    - start Kafka, all six services and demo data (Ctrl-C stops)"
	@echo "make test   - lint, type-check and run every test (starts Kafka + PostgreSQL itself)"
	@echo "make bench  - benchmarks; prints figures and saves bench-results/*.json"
	@echo "make stop   - stop a local Kafka left running;  make clean - remove local state"

# uv if missing, then the locked workspace
bootstrap:
	@if ! command -v uv >/dev/null 2>&1 && [ ! -x "$(HOME)/.local/bin/uv" ]; then \
	  echo "installing uv from PyPI"; \
	  python3 -m pip install --quiet uv 2>/dev/null \
	  || python3 -m pip install --quiet --user --break-system-packages uv; \
	fi
	@uv=$$(command -v uv 2>/dev/null || echo "python3 -m uv"); $$uv sync --frozen --quiet

run: bootstrap
	@$(UV) run --frozen python deploy/local/mesh.py run

lint: bootstrap
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .

typecheck: bootstrap
	@$(UV) run --frozen mypy shared/meshkit gateway/egov_gateway svc-identity/egov_identity \
	  svc-registry/egov_registry svc-licensing/egov_licensing svc-payments/egov_payments \
	  svc-notary/egov_notary testing/meshkit_testing

# Debian's Chromium for the portal's browser tests (Playwright drives it; no browser download)
browsers:
	@[ -x /usr/bin/chromium ] || { \
	  echo "installing chromium (apt-get)"; \
	  s=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$s apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -qq chromium >/dev/null; }

test: lint typecheck browsers
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

unit: bootstrap
	@$(UV) run --frozen pytest -m "not integration and not e2e" $(PYTEST_ARGS)

bench: bootstrap
	@$(UV) run --frozen python tests/bench/run.py

kafka-start: bootstrap
	@$(UV) run --frozen python -m meshkit_testing.devinfra kafka start

stop kafka-stop:
	@$(UV) run --frozen python -m meshkit_testing.devinfra kafka stop || true

clean: stop
	rm -rf .data .run
