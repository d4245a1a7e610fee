# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint unit integration e2e bench demo clean

# Swagger UI for /docs, served by Parley itself (no third-party script on the origin that holds
# tokens): a pinned release from npm, checked against its sha512 before it is unpacked.
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI_SHA512 := U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
SWAGGER_UI := parley/web/vendor/swagger-ui
SWAGGER_UI_STAMP := $(SWAGGER_UI)/.$(SWAGGER_UI_VERSION)

setup: $(STAMP) $(SWAGGER_UI_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(SWAGGER_UI_STAMP):
	@command -v npm >/dev/null || { echo "setup: npm fetches Swagger UI for /docs; install it: apt-get install -y npm"; exit 1; }
	rm -rf $(SWAGGER_UI) && mkdir -p $(SWAGGER_UI)
	cd $(SWAGGER_UI) && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null
	$(PYTHON) -c 'import base64, hashlib, sys; digest = base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode(); sys.exit(0 if digest == sys.argv[2] else "setup: swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz does not match its pinned sha512")' \
		$(SWAGGER_UI)/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz '$(SWAGGER_UI_SHA512)'
	tar -xzf $(SWAGGER_UI)/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz -C $(SWAGGER_UI) --strip-components=1 \
		package/swagger-ui-bundle.js package/swagger-ui.css package/LICENSE package/NOTICE
	rm $(SWAGGER_UI)/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz
	touch $@

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
