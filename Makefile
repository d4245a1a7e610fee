# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint unit integration e2e bench demo clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/parley serve

demo: setup
	$(BIN)/parley demo

lint: setup
	$(BIN)/ruff check parley tests bench
	$(BIN)/ruff format --check parley tests bench
	$(BIN)/mypy parley tests bench

unit: setup
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -q tests/integration

# Real Chromium (Debian's /usr/bin/chromium) against a real server; skipped when it is missing.
e2e: setup
	$(BIN)/pytest -q tests/e2e

test: lint  # every test under tests/: unit, integration and e2e
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench.joins
	$(BIN)/python -m bench.links
	$(BIN)/python -m bench.suspension
	$(BIN)/python -m bench.mouth_to_ear
	$(BIN)/python -m bench.media

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
