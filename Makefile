# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps run test lint unit integration e2e security bench bench.limits bench.hls bench.posting bench.loss bench.sweep bench.reads bench.recording_archive bench.transparency bench-smoke demo clean

# Swagger UI for /docs, served by Parley itself (no third-party script on the origin that holds
# tokens): a pinned release from npm, checked against its sha512 before it is unpacked.
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI_SHA512 := U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
SWAGGER_UI := parley/web/vendor/swagger-ui
SWAGGER_UI_STAMP := $(SWAGGER_UI)/.$(SWAGGER_UI_VERSION)
# hls.js for listening by HLS in browsers without native HLS, fetched and checked the same way.
# The light build (no subtitles, DRM or alternate renditions: Parley's HLS is one audio stream).
HLS_JS_VERSION := 1.7.4
HLS_JS_SHA512 := 3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg==
HLS_JS := parley/web/vendor/hls.js
HLS_JS_STAMP := $(HLS_JS)/.$(HLS_JS_VERSION)

setup: $(STAMP) $(SWAGGER_UI_STAMP) $(HLS_JS_STAMP)

$(STAMP): pyproject.toml parley/media/_sendmmsg.c parley/media/_fanout.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(SWAGGER_UI_STAMP):
	@if command -v npm >/dev/null; then \
		rm -rf $(SWAGGER_UI) && \
		scripts/npm-fetch swagger-ui-dist $(SWAGGER_UI_VERSION) '$(SWAGGER_UI_SHA512)' $(SWAGGER_UI) \
			swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE && \
		touch $@; \
	else \
		echo "setup: no npm, so /docs has no Swagger UI (make system-deps installs npm)"; \
	fi

$(HLS_JS_STAMP):
	@if command -v npm >/dev/null; then \
		rm -rf $(HLS_JS) && \
		scripts/npm-fetch hls.js $(HLS_JS_VERSION) '$(HLS_JS_SHA512)' $(HLS_JS) \
			dist/hls.light.min.mjs LICENSE && \
		touch $@; \
	else \
		echo "setup: no npm, so browsers without native HLS cannot use data saver (make system-deps installs npm)"; \
	fi

# As root: the Debian packages of system-packages.txt, and PostgreSQL and Redis started.
system-deps:
	bash scripts/system-deps

run: setup
	$(BIN)/parley serve

demo: setup
	$(BIN)/parley demo

lint: setup
	$(BIN)/ruff check parley tests bench examples
	$(BIN)/ruff format --check parley tests bench examples
	$(BIN)/mypy parley tests bench examples

unit: setup
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -q tests/integration

# Real Chromium (Debian's /usr/bin/chromium) against a real server.
e2e: setup
	$(BIN)/pytest -q tests/e2e

# Regressions of outside probes (issue 8 onwards).
security: setup
	$(BIN)/pytest -q tests/security

# Every test under tests/: unit, integration, security and e2e. Stops before running any when
# something they need is missing (Chromium, PostgreSQL, ...), naming it and `make system-deps`.
# Three pytest-xdist workers on the two cores this was tuned on: most tests wait on servers,
# sockets and timers, not on a core; tests/conftest.py keeps the ones that must not overlap
# together. pytest keeps the modules it rewrites for its assertion messages (every test module,
# and every module of each pytest plugin's package: about 550 files) only where Python may write
# bytecode; with PYTHONDONTWRITEBYTECODE set, each worker parsed and rewrote them all again at
# every run, about 4 s of CPU apiece. The files go to __pycache__/ (ignored by git).
test: lint
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -n 3 --dist loadgroup

bench: setup
	$(BIN)/python -m bench.joins
	$(BIN)/python -m bench.join_batches
	$(BIN)/python -m bench.links
	$(BIN)/python -m bench.suspension
	$(BIN)/python -m bench.mouth_to_ear
	$(BIN)/python -m bench.loss
	$(BIN)/python -m bench.media
	$(BIN)/python -m bench.limits
	$(BIN)/python -m bench.hls
	$(BIN)/python -m bench.posting
	$(BIN)/python -m bench.sweep
	$(BIN)/python -m bench.reads
	$(BIN)/python -m bench.recording_archive
	$(BIN)/python -m bench.transparency

# Every benchmark of `make bench` at a tiny size, recording nothing, and those run by hand alone
# (relay, sendpath, mixer; captions decodes its hundred phrases at any size, minutes, so not it):
# CI runs it, so that a benchmark broken by a change (as the CSP broke mouth_to_ear) fails there.
bench-smoke: export PARLEY_BENCH_NO_RECORD = 1
bench-smoke: setup
	$(BIN)/python -m bench.joins --clients 50
	$(BIN)/python -m bench.join_batches --joins 60
	$(BIN)/python -m bench.links --rules 2000 --checks 2000
	$(BIN)/python -m bench.suspension --victims 2 --listeners 10
	$(BIN)/python -m bench.mouth_to_ear --beeps 4
	$(BIN)/python -m bench.loss --seconds 2 --loss 0 5 --late 5
	$(BIN)/python -m bench.media --listeners 10 --seconds 2 --bursts 5 --latency-listeners 0 10
	$(BIN)/python -m bench.limits --seconds 3
	$(BIN)/python -m bench.hls --seconds 5 --load-seconds 3 --listeners 10 --direct 10
	$(BIN)/python -m bench.posting --seconds 3
	$(BIN)/python -m bench.sweep --seconds 2
	$(BIN)/python -m bench.reads --requests 20
	$(BIN)/python -m bench.recording_archive --recordings 5 --runs 1
	$(BIN)/python -m bench.transparency --entries 1000
	$(BIN)/python -m bench.relay --seconds 2 --lease 2.0
	$(BIN)/python -m bench.sendpath --listeners 20 --packets 20
	$(BIN)/python -m bench.mixer --speakers 1 --listeners 0 10 --seconds 1

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis

# One benchmark alone: live HLS latency, and the node's load behind nginx (deploy/nginx/).
bench.hls: setup
	$(BIN)/python -m bench.hls

# One benchmark alone: a sign-in under a password flood, and the limiter's cost.
bench.limits: setup
	$(BIN)/python -m bench.limits

bench.posting: setup
	$(BIN)/python -m bench.posting

# One benchmark alone: what an idle node's sweep costs.
bench.sweep: setup
	$(BIN)/python -m bench.sweep

# One benchmark alone: what the API's everyday reads cost a node on SQLite.
bench.reads: setup
	$(BIN)/python -m bench.reads

# One benchmark alone: what a listener hears when a speaker's packets are lost or late.
bench.loss: setup
	$(BIN)/python -m bench.loss

# One benchmark alone: how a node's start-up grows with the recordings it keeps.
bench.recording_archive: setup
	$(BIN)/python -m bench.recording_archive

# One benchmark alone: what counting the public transparency report costs as the audit log grows.
bench.transparency: setup
	$(BIN)/python -m bench.transparency
