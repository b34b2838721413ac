# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format histories clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m devstack

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain workflows activities db api devstack settings.py worker.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-record tests/histories after a deliberate (patched) workflow change.
histories: install
	RECORD_HISTORIES=1 $(BIN)/pytest tests/test_lifecycle_paths.py tests/test_lifecycle_rules.py tests/test_lifecycle_time.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
