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
