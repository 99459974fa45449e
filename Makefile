# Partner Portal: developer entry points.  `make` (or `make help`) lists the targets.
#
# With nothing configured, `run`, `test` and `bench` start an embedded PostgreSQL and Redis
# (see portal/embedded.py; data in .data/).  Set DATABASE_URL / REDIS_URL to use your own.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BOOTSTRAP_PYTHON ?= python3
PYTHON := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=
QUICK ?=
BACKUP_DIR ?= backups
ARCHIVE ?=
FORCE ?=
# `make run DEMO=0` starts without the demo data (README, "Starting without the demo").
DEMO ?= 1

# Prints `export DATABASE_URL=... REDIS_URL=...`, starting embedded servers when needed.
SERVICES_ENV = eval "$$($(PYTHON) -m portal.embedded env)"

.PHONY: help run test browser bench lint migrate seed backup restore clean-data

help: ## List the targets
	@echo "Partner Portal make targets:"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-11s %s\n", $$1, $$2}'
	@echo "Variables: PORT=$(PORT)  DEMO=$(DEMO) (run; DEMO=0: no demo data)  PYTEST_ARGS='...'  QUICK=1 (bench)"
	@echo "           BACKUP_DIR=$(BACKUP_DIR)  ARCHIVE=...  FORCE=1 (restore)"

$(VENV)/.installed: pyproject.toml
	$(BOOTSTRAP_PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -e '.[dev]' && touch $(VENV)/.installed

run: $(VENV)/.installed ## Start everything (db, redis, migrate, demo data unless DEMO=0, web, worker, beat)
	PORTAL_DEMO='$(DEMO)' $(PYTHON) -m portal.embedded run --port $(PORT)

test: $(VENV)/.installed browser ## Lint and run the whole suite (migrations and check --deploy included)
	$(SERVICES_ENV) && $(VENV)/bin/ruff check . && $(VENV)/bin/pytest $(PYTEST_ARGS)

browser: ## Make sure Chromium is installed (for the e2e tests)
	@bash scripts/ensure-chromium.sh

bench: $(VENV)/.installed ## Run every bench/*.py (QUICK=1 for a short run)
	@$(SERVICES_ENV) && \
	shopt -s nullglob && \
	for script in bench/*.py; do \
		name=$$(basename "$$script"); \
		case "$$name" in __init__.py|_*) continue ;; esac; \
		echo "==> $$script"; \
		$(PYTHON) "$$script" $(if $(filter 1,$(QUICK)),--quick,) || exit $$?; \
	done

lint: $(VENV)/.installed ## ruff check + ruff format --check
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

migrate: $(VENV)/.installed ## Apply database migrations
	$(SERVICES_ENV) && $(PYTHON) manage.py migrate --noinput

seed: $(VENV)/.installed ## Load the demo data (prints the demo logins)
	$(SERVICES_ENV) && $(PYTHON) manage.py seed_demo

# backup/restore need no real secret key; without one they reuse `make run`'s (.data/secret_key).
BACKUP_SECRET = { [ -n "$${DJANGO_SECRET_KEY:-}$${DJANGO_SECRET_KEY_FILE:-}" ] || [ ! -f .data/secret_key ] || \
	export DJANGO_SECRET_KEY="$$(cat .data/secret_key)"; }

backup: $(VENV)/.installed ## Archive the database and stored files into BACKUP_DIR (default backups/)
	@$(SERVICES_ENV) && $(BACKUP_SECRET) && $(PYTHON) manage.py backup --dir "$(BACKUP_DIR)"

restore: $(VENV)/.installed ## Restore ARCHIVE=path (FORCE=1 replaces a non-empty database)
	@if [ -z "$(ARCHIVE)" ]; then \
		echo "usage: make restore ARCHIVE=$(BACKUP_DIR)/portal-<time>.tar [FORCE=1] [DATABASE_URL=...]" >&2; \
		exit 2; \
	fi
	@$(SERVICES_ENV) && $(BACKUP_SECRET) && \
	$(PYTHON) manage.py restore "$(ARCHIVE)" $(if $(filter 1 yes true,$(FORCE)),--force,)

clean-data: ## Stop the embedded servers and delete .data/
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m portal.embedded stop; fi
	rm -rf .data
