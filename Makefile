# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv installs exactly what uv.lock pins. Taken from PATH, else from PyPI through pip into
# .tools/ once; it never downloads a Python (this machine's PYTHON is the interpreter).
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
SYNC := $(UV) sync --frozen --python $(PYTHON)

.PHONY: install browser run test bench lint format histories upgrade-runs lock clean

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# The package (editable) and the dev group (tests, browser driver, linters, dev stack).
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(SYNC)
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m devstack

# The browser tests drive Debian's Chromium; the CJK font keeps Chinese from rendering as boxes,
# chromium-l10n has Chromium's own words (file and date inputs) in Chinese.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -f /usr/lib/chromium/locales/zh-CN.pak ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi micro hei"; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-l10n fonts-wqy-microhei; \
		else \
			echo "browser tests need: sudo apt-get install -y chromium chromium-l10n fonts-wqy-microhei"; \
		fi; \
	fi
	@# axe-core (package-lock.json) checks every page the browser tests visit; kept when present.
	@if [ ! -f node_modules/axe-core/axe.min.js ]; then \
		if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; \
		fi; \
		npm ci --no-audit --no-fund --silent; \
	fi

test: install browser
	$(BIN)/pytest

# Throughput and latency against the engine's own ceiling (not part of `make test`);
# writes docs/benchmarks.json and docs/benchmarks.md. `make bench BENCH_ARGS=--quick`.
bench: install
	$(SYNC) --group bench
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain workflows activities db api devstack settings.py worker.py ops tests bench

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-record tests/histories after a deliberate (patched) workflow change.
histories: install
	RECORD_HISTORIES=1 $(BIN)/pytest tests/workflows/test_lifecycle_paths.py tests/workflows/test_lifecycle_rules.py tests/workflows/test_lifecycle_time.py

# Move every open order run onto the newest workflow code (README, "Changing the workflow").
# `make upgrade-runs UPGRADE_ARGS="--query \"Platform='jd'\""`
upgrade-runs: install
	$(BIN)/python -m ops upgrade-runs --wait $(UPGRADE_ARGS)

# After a change to the dependencies in pyproject.toml: resolve again and commit uv.lock.
lock: | $(UV)
	$(UV) lock --python $(PYTHON)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
