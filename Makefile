# Two commands matter: `make run` serves the API, `make test` checks everything.
# Both build .venv from the pinned lock on first use; only Python >= 3.11 and make are needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= dev
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run migrate superuser test lint format lock clean entity remove-entity modules docs docs-build screenshots

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Before .venv exists, PYTHON must run: say so in one line, not with pip's or pyenv's errors.
# (hooks/generate.py rewrites the `PYTHON ?=` line above for the chosen Python version.)
ifeq ($(wildcard $(BIN)/python),)
ifneq ($(filter-out help clean,$(or $(MAKECMDGOALS),help)),)
ifneq ($(shell $(PYTHON) -c "" >/dev/null 2>&1 && echo ok),ok)
$(error $(PYTHON) is missing or does not run; give its path: \
	make PYTHON=/path/to/$(notdir $(PYTHON)) $(MAKECMDGOALS))
endif
endif
endif

# uv (pinned in the lock) installs in seconds, reading the dependency lists straight from
# pyproject.toml; where it cannot be had, pip installs the same from ".[extras]", slower.
# --compile-bytecode as pip does: uv leaves it to the first import, and where
# PYTHONDONTWRITEBYTECODE is set nothing is saved, so every start recompiled every library (seconds).
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
UV_PIN := $(shell grep -m1 '^uv==' requirements.lock)
comma := ,
UV_EXTRAS := $(addprefix --extra ,$(subst $(comma), ,$(EXTRAS)))

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	if $(PIP) install "$(UV_PIN)" && $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python \
			-c requirements.lock -r pyproject.toml $(UV_EXTRAS); then :; else \
		echo "uv did not install the lock; installing with pip"; \
		$(PIP) install --upgrade pip && $(PIP) install -c requirements.lock ".[$(EXTRAS)]"; fi
	touch $@

install: $(BIN)/.installed  ## Create .venv with the pinned dependencies

migrate: install  ## Apply database migrations
	$(BIN)/alembic upgrade head

superuser: install  ## Create the first superuser if FIRST_SUPERUSER_* are set
	$(BIN)/python -m modules.users.first_superuser

run: migrate superuser  ## Serve the API on http://127.0.0.1:8000 with reload
	$(BIN)/python -m core.serve --reload --host $(HOST) --port $(PORT)

lint: install  ## Ruff, format check, mypy, the modules' boundaries, the docs site (strict)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m core.modulith verify
	$(BIN)/mkdocs build --strict --site-dir site

# `make test module=orders`: that module's tests, on an app of it and the modules it depends on;
# `make test changed=origin/main`: the tests of what changed since that ref (core/modulith/slices.py).
# Either runs without the coverage floor, which measures the whole suite.
test: lint  ## Lint, then the whole suite with coverage (fails under 90%); or module=NAME, changed=REF
ifneq ($(module)$(changed),)
	$(BIN)/python -m core.modulith test $(if $(module),--module $(module),--changed $(changed)) $(PYTEST_ARGS)
else
	$(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)
endif

modules: install  ## Draw the module map and the reference pages from the code (docs/)
	$(BIN)/python -m core.modulith document

# The docs site (mkdocs.yml). Material for MkDocs announces its end of life on every build; the
# choice and the way on are in docs/tests.md, so the box is not repeated in every lint.
export NO_MKDOCS_2_WARNING := 1
DOCS_PORT ?= 8001

docs: install  ## Serve the docs site on http://127.0.0.1:8001 with live reload
	$(BIN)/mkdocs serve --dev-addr $(HOST):$(DOCS_PORT)

docs-build: install  ## Build the docs site into site/, strictly: a broken link or anchor fails
	$(BIN)/mkdocs build --strict --site-dir site

# The screenshots the docs show come from the browser tests, not by hand: each writes its own
# into the folder SCREENSHOTS names (/docs's, and the admin site's where the service has one).
screenshots: install  ## Retake the docs' screenshots (docs/*.png) from the browser tests
	SCREENSHOTS=docs $(BIN)/pytest -q -p no:cacheprovider tests/deploy/test_docs_offline.py \
		$(wildcard tests/deploy/test_*_browser.py)

format: install  ## Fix what ruff can fix and format everything; make lint reports what is left
	$(BIN)/ruff check --fix --exit-zero .
	$(BIN)/ruff format .

lock:  ## Re-resolve requirements.lock from pyproject.toml (needs the package index)
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev,postgresql,redis]"
	.lock-venv/bin/python -m pip freeze --disable-pip-version-check | grep -v '@ file://' > requirements.lock
	rm -rf .lock-venv

clean:  ## Remove .venv, caches and the local database
	rm -rf $(VENV) .lock-venv .pytest_cache .mypy_cache .ruff_cache .coverage data site

entity: install  ## Add an entity: name=order_lines [singular=] [fields="order_id:ref:orders qty:int"] [owned=no] [dry_run=1]
	$(BIN)/python -m scaffold add "$(name)" $(if $(singular),--singular "$(singular)") \
		$(if $(fields),--fields "$(fields)") $(if $(owned),--owned "$(owned)") $(if $(dry_run),--dry-run)

remove-entity: install  ## Remove an entity that has not been migrated yet: name=order_lines
	$(BIN)/python -m scaffold remove "$(name)" $(if $(dry_run),--dry-run)

# Updating from the template (docs/updating.md): cruft, pinned, in a venv
# of its own so the project's dependencies never carry it. MODULITH_NO_GIT keeps the template's
# renders (cruft makes two, in temporary folders) from becoming git repositories.
CRUFT_VENV ?= .cruft-venv
.PHONY: update
update:  ## Bring in the template's changes since generation (cruft; .env is never touched)
	@test -f .cruft.json || { echo "make update: no .cruft.json here, so no template to update from"; exit 1; }
	test -x $(CRUFT_VENV)/bin/cruft || { $(PYTHON) -m venv $(CRUFT_VENV) && \
		$(CRUFT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check cruft==2.16.0; }
	MODULITH_NO_GIT=1 $(CRUFT_VENV)/bin/cruft update --skip-apply-ask $(UPDATE_ARGS)
	@git status --short 2>/dev/null || true

# <template-only>  (hooks/generate.py drops this block from generated Makefiles)
.PHONY: bench
bench: install  ## Load the service and a bare floor app with wrk, side by side (minutes)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
# </template-only>
