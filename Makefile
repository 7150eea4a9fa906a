# The one entry point. `make demo` and `make test` do all set-up on a fresh machine with Python 3.11.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-output
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo serve test lint typecheck bench audit clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,spark]'
	touch $(STAMP)

install: $(STAMP)

## Build the demo organisation, run the whole flow, write $(DEMO_DIR)/report.html, then serve it with a
## DEMO-ONLY identity provider on 127.0.0.1 that prints how to sign in as each role.
demo: $(STAMP)
	rm -rf $(DEMO_DIR)  # the demo is rebuilt from scratch every time
	$(BIN)/teamlens demo --out $(DEMO_DIR)
	$(BIN)/teamlens demo-serve --out $(DEMO_DIR) --port $(PORT)

serve: $(STAMP)
	$(BIN)/teamlens serve --data-dir $(DEMO_DIR)/data --host $(HOST) --port $(PORT)

## Install everything the tests need, then run them all in random order (the seed is printed last),
## measuring branch coverage and holding each package to its floor (tests/README.md).
test: $(STAMP)
	bash scripts/test-services.sh start > .test-services.env
	set -a && . ./.test-services.env && set +a && \
	  { $(BIN)/python -m pytest -n 2 --dist loadgroup -q --cov --cov-report=json:.coverage-report.json; status=$$?; \
	    bash scripts/test-services.sh stop; exit $$status; }
	$(BIN)/python scripts/coverage_floors.py .coverage-report.json

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q tests/unit/test_architecture.py

bench: $(STAMP)
	$(BIN)/python -m bench

## The long runs: the large statistical privacy runs (results go to docs/privacy-audit.md), the
## kill-ingest test's 20 rounds, and the property tests with Hypothesis' full example counts.
audit: $(STAMP)
	TEAMLENS_RECORD_SUITE=1 $(BIN)/python -m pytest tests/attacks tests/integration/test_kill_ingest.py \
	  tests/unit/sources tests/unit/store/test_store_aggregate.py tests/properties -q --audit-large --timeout=0

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage-report.json
