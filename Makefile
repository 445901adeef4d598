# Rapport developer entry points.
#
# Local infrastructure (Kafka + PostgreSQL, no Docker) is provisioned by the
# scripts in scripts/; state, data and logs live in $(RAPPORT_LOCAL)
# (default: .local/, git-ignored).  Variables such as RAPPORT_KAFKA_PORT,
# RAPPORT_PG_PORT, RAPPORT_KAFKA_BOOTSTRAP and RAPPORT_DATABASE_URL are read
# from the environment; see scripts/env.sh.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- Python

.PHONY: sync
sync: ## Create/refresh .venv from uv.lock (pip-installs the pinned uv if missing)
	@if command -v uv >/dev/null 2>&1; then uv=uv; else \
		echo "[make] uv not found; installing uv==$(UV_VERSION) with pip"; \
		python3 -m pip install -q "uv==$(UV_VERSION)"; uv="python3 -m uv"; \
	fi; \
	echo "[make] $$uv sync --frozen"; $$uv sync --frozen

# ---------------------------------------------------------------- local infrastructure

.PHONY: infra-up
infra-up: ## Start (or reuse) local Postgres + Kafka and wait until ready
	scripts/infra.sh up

.PHONY: infra-down
infra-down: ## Stop the local Postgres + Kafka started by infra-up (data is kept)
	scripts/infra.sh down

.PHONY: infra-status
infra-status: ## Show whether Postgres and Kafka answer
	scripts/infra.sh status

.PHONY: clean-local
clean-local: ## Stop local infra and delete all local state (data, jars, logs)
	scripts/infra.sh clean

# ---------------------------------------------------------------- services

RUN_DIR := $(or $(RAPPORT_LOCAL),.local)/run
# Set when `make up` started the infrastructure itself, so `make down` stops only that.
INFRA_MARK := $(RUN_DIR)/infra-started-by-up

.PHONY: up
up: sync ## Start infra, provision, migrate, then every service under honcho (waits for /readyz)
	@mkdir -p $(RUN_DIR)
	@if scripts/infra.sh status >/dev/null 2>&1; then echo "[make] infrastructure already up; reusing it"; \
	else scripts/infra.sh up && touch $(INFRA_MARK); fi
	scripts/services.sh prepare
	scripts/services.sh start

.PHONY: down
down: ## Stop what `make up` started: the services, then the infra if `make up` started it
	scripts/services.sh stop
	@if [ -e $(INFRA_MARK) ]; then scripts/infra.sh down && rm -f $(INFRA_MARK); \
	else echo "[make] infrastructure was already running before make up; leaving it up (make infra-down stops it)"; fi

.PHONY: status
status: ## Show whether the infra and every service answer
	-scripts/infra.sh status
	scripts/services.sh status

.PHONY: demo
demo: up ## make up + load the synthetic demo company + print where to look
	scripts/demo.sh

# ---------------------------------------------------------------- tests, benchmarks

PYTEST_ARGS ?=

.PHONY: test
test: sync ## Run every test suite against real Kafka + Postgres (JUnit XML in test-artifacts/)
	@mkdir -p test-artifacts; \
	was_up=0; scripts/infra.sh status >/dev/null 2>&1 && was_up=1; \
	scripts/infra.sh up; \
	rc=0; uv run --frozen pytest --junitxml=test-artifacts/junit.xml $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "[make] pytest collected no tests: failing"; rc=1; fi; \
	if [ "$$was_up" -eq 0 ]; then scripts/infra.sh down || true; fi; \
	echo "[make] tests finished with exit code $$rc"; exit $$rc

.PHONY: bench
bench: sync ## Run every bench/*_bench.py and print its figures (RAPPORT_BENCH_SCALE=0.05 for a quick run)
	scripts/infra.sh up
	.venv/bin/python bench/run_all.py

.PHONY: eval
eval: sync ## Evaluate the scoring model (rapport-scoring eval)
	scripts/infra.sh up
	.venv/bin/rapport-scoring eval
