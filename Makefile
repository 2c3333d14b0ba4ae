# Lyceum: `make run` to start it, `make test` to check it. See README.md.
# The real work is in scripts/lyceum.py; these targets make sure the virtual environment exists.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LYCEUM := $(PY) scripts/lyceum.py
# Extra pytest arguments: make test ARGS="-k health -x"
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test services stop migrate lint format venv openapi bench

help:
	@echo "make run       find or start PostgreSQL and Redis, migrate, seed demo data,"
	@echo "               then serve on http://127.0.0.1:$${PORT:-8000}/ with a Celery worker and beat"
	@echo "make test      lint, Django checks and the whole pytest suite (ARGS=... goes to pytest)"
	@echo "make services  find or start PostgreSQL and Redis, write .var/lyceum.env"
	@echo "make stop      stop the project-local PostgreSQL and Redis under .var/"
	@echo "make migrate   apply migrations (as the database owner role)"
	@echo "make lint      ruff check, ruff format --check, lint-imports"
	@echo "make format    ruff format and ruff check --fix"
	@echo "make venv      create .venv with Python 3.11 and install the pinned dependencies"
	@echo "make bench     generate data (SCALE=0.01 default) and benchmark it under gunicorn;"
	@echo "               ARGS=--full for full scale (docs/performance.md)"

run: $(STAMP)
	$(LYCEUM) run

test: $(STAMP)
	$(LYCEUM) test $(ARGS)

services: $(STAMP)
	$(LYCEUM) services

migrate: $(STAMP)
	$(LYCEUM) migrate

lint: $(STAMP)
	$(LYCEUM) lint

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate the committed API description (a test fails while it differs from the code).
openapi: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$${DATABASE_URL:-postgres://unused/unused} \
		$(VENV)/bin/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Benchmarks against generated data (docs/adr/0020-benchmark-harness.md): SCALE=0.01 by default.
SCALE ?= 0.01
bench: $(STAMP)
	$(PY) bench/run.py --scale $(SCALE) $(ARGS)

# Stopping needs only the standard library: it works before or without the venv.
stop:
	@$(if $(wildcard $(PY)),$(PY),python3) scripts/lyceum.py stop-services

venv: $(STAMP)

.venv: $(STAMP)

# The interpreter: python3.11, else python3 if that is 3.11.
$(PY):
	@py=$$(command -v python3.11 || command -v python3) || { \
		echo "error: Python 3.11 is needed (python3.11 or python3): apt-get install python3.11 python3.11-venv" >&2; exit 1; }; \
	$$py -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "error: $$py is Python $$($$py -c 'import sys; print(*sys.version_info[:2], sep=".")'), Lyceum needs 3.11: install python3.11" >&2; exit 1; }; \
	echo "creating $(VENV) with $$py"; \
	$$py -m venv $(VENV) || { \
		echo "error: could not create $(VENV) (on Debian: apt-get install python3.11-venv)" >&2; rm -rf $(VENV); exit 1; }

# (Re)install whenever the declared or locked dependencies are newer than the last install.
$(STAMP): pyproject.toml requirements/lock.txt | $(PY)
	$(VENV)/bin/pip install -c requirements/lock.txt -e ".[dev]"
	@touch $(STAMP)
