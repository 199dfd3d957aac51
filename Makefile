# Stockroom. `make run` serves the product; `make test` passes the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.txt | sha1sum | cut -c1-12)

.PHONY: run test test-pooled lint format openapi worker dbshell requirements clean clean-data assets screenshots

$(STAMP): requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "installing python3-venv from Debian's packages"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	  $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

## run: venv, install, embedded PostgreSQL in .data/postgres (roles, migrate as the owner, demo data),
## server on http://127.0.0.1:$(PORT) as the runtime role; Ctrl-C stops both (scripts/devdb.py)
PORT ?= 8000
run: $(STAMP)
	$(PY) scripts/devdb.py run --port $(PORT)

## test: lint, then the suite on PostgreSQL and Redis (throwaway servers unless DATABASE_URL/REDIS_URL are set),
## then the isolation and concurrency tests again through PgBouncer in transaction mode (scripts/with-pgbouncer.sh)
test: $(STAMP) lint
	scripts/with-test-services.sh $(PY) -m pytest -q --durations=15
	$(MAKE) --no-print-directory test-pooled

## test-pooled: the isolation and concurrency tests again, with the runtime and ops roles connected
## through a throwaway PgBouncer in transaction mode (scripts/with-pgbouncer.sh; docs/deploy.md)
POOLED_TESTS := tenants/tests/test_pooling.py tenants/tests/test_rls.py tenants/tests/test_scoping.py \
  tenants/tests/test_dbbackend.py tenants/tests/test_api_key_connection.py tenants/tests/test_member_concurrency.py \
  tenants/tests/test_cross_tenant.py::test_tenant_b_cannot_reach_tenant_a \
  tenants/tests/test_cross_tenant.py::test_row_level_security_contains_an_unscoped_orm_query \
  tenants/tests/test_cross_tenant.py::test_row_level_security_contains_unscoped_membership_queries \
  inventory/tests/test_concurrency.py inventory/tests/test_import_writers.py orders/tests/test_order_concurrency.py
test-pooled: $(STAMP)
	scripts/with-test-services.sh --pgbouncer $(PY) -m pytest -q --durations=5 $(POOLED_TESTS)

## lint: ruff, ruff format --check, mypy, import-linter (dependency rules), makemigrations --check, stale OpenAPI file,
## and the deploy checks (scripts/checks/: hadolint and the compose schema, zizmor and the workflow schemas,
## terraform fmt + validate of every root offline, checkov in its own venv)
# Lint commands read no database: the suite's DATABASE_URL is a server to provision, not the app's
# (makemigrations would warn that it cannot reach the development database: it need not).
lint: export DATABASE_URL :=
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -W "ignore:Got an error checking a consistent migration history:RuntimeWarning" \
	  manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --fail-on-warn --validate --file /tmp/stockroom-openapi.yaml
	@diff -q docs/openapi.yaml /tmp/stockroom-openapi.yaml >/dev/null || { \
	  echo "docs/openapi.yaml is stale: run 'make openapi' and commit it"; exit 1; }
	scripts/checks/dockerfile.sh
	scripts/checks/workflows.sh
	scripts/checks/terraform.sh
	scripts/checks/checkov.sh

## assets: the web app's front-end packages (Tabler, axe-core) from npm into web/static/vendor and
## web/tests/vendor, versions pinned in web/package.json; the copies are committed (needs node and npm)
assets:
	scripts/vendor_assets.sh

## screenshots: docs/screenshots/*.png (and the landing page's picture) from the demo data, in Chromium
screenshots: $(STAMP)
	$(PY) scripts/screenshots.py

openapi: $(STAMP)
	$(PY) manage.py spectacular --fail-on-warn --validate --file docs/openapi.yaml

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker -l INFO

## dbshell: psql on the development database as the runtime role (`scripts/devdb.py psql --role owner|ops|admin`)
dbshell: $(STAMP)
	$(PY) scripts/devdb.py psql

## requirements: recompile the pinned requirements/*.txt from requirements/*.in
requirements: $(STAMP)
	cd requirements && for f in base prod dev; do ../$(VENV)/bin/pip-compile -q --no-emit-index-url \
	  --no-emit-find-links --strip-extras --allow-unsafe $$f.in -o $$f.txt; done

## clean: the venv and caches; the development database (.data/) stays: `make clean-data` removes it
clean:
	rm -rf $(VENV) .venv-checkov staticfiles .mypy_cache .pytest_cache .ruff_cache
	find terraform -name .terraform -type d -prune -exec rm -rf {} +

clean-data:
	@test ! -x $(PY) || $(PY) scripts/devdb.py stop
	rm -rf .data
