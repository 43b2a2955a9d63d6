# tickwindows — every target starts with `setup`, which builds .venv once and re-installs only
# when pyproject.toml changes.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export PYTHONDONTWRITEBYTECODE := 1

DEMO_DB ?= warehouse/tickwindows.duckdb
EMULATOR_PORT ?= 8765

.PHONY: setup test demo bench clean help

help:
	@echo "make demo   - demo inputs, dbt build + gate, emulator, pilot download, report"
	@echo "make test   - pytest + dbt build on a small deterministic fixture"
	@echo "make bench  - dbt build wall time, per-model times and peak RSS (demo and 10M events)"
	@echo "make setup  - create .venv and install (idempotent)"

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	bash scripts/demo.sh

bench: setup
	$(BIN)/python bench/bench_dbt.py

clean:
	rm -rf target logs warehouse .cache
