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

.PHONY: setup lint test demo bench bench-download bench-batches docs clean help

help:
	@echo "make demo   - demo inputs, dbt build + gate, emulator, pilot download, report"
	@echo "make test   - lint, then dbt build on a small deterministic fixture, then pytest"
	@echo "make lint   - ruff check (python/, bench/, scripts/) and mypy --strict on python/tickwindows"
	@echo "make bench  - dbt build vs the pandas peer: wall, CPU, peak RSS, per-node times (0.7M, 10M, 49M events)"
	@echo "make bench-download - downloader rows/s, pages/s, peak RSS, rate-limit share vs the emulator"
	@echo "make bench-batches - the batch workflow (25 % -> 60 % -> 100 %) on the demo universe vs a one-shot build"
	@echo "make docs   - dbt docs (static, offline) on the small fixture: target/static_index.html"
	@echo "make setup  - create .venv and install (idempotent)"

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

FIXTURE := .cache/fixture
FIXTURE_VARS := '{events_path: "$(FIXTURE)/data/events/*.parquet", daily_bars_dir: "$(FIXTURE)/data/daily", ticks_dir: "$(FIXTURE)/data/ticks", profile: smoke}'

# ruff on all Python; mypy strict on the package (configured in pyproject.toml). Caches go to .cache/.
lint: setup
	$(BIN)/ruff check python bench scripts
	$(BIN)/mypy python/tickwindows

# lint first; then dbt build with every unit test (`--selector with_unit_tests`: a plain `dbt build` skips
# them, see selectors.yml) plus the data tests and the gate on the small deterministic fixture, then every pytest module (which builds its own copies of the project again).
test: setup lint
	$(BIN)/tickwindows demo-data --size small --out $(FIXTURE)/data --force
	rm -f $(FIXTURE)/warehouse.duckdb
	TICKWINDOWS_DB=$(FIXTURE)/warehouse.duckdb $(BIN)/dbt build --selector with_unit_tests --vars $(FIXTURE_VARS)
	$(BIN)/python -m pytest -q

# The dbt docs site as one self-contained HTML file (no server needed), built on the small fixture.
docs: setup
	test -d $(FIXTURE)/data/events || $(BIN)/tickwindows demo-data --size small --out $(FIXTURE)/data --force
	test -f $(FIXTURE)/warehouse.duckdb || TICKWINDOWS_DB=$(FIXTURE)/warehouse.duckdb $(BIN)/dbt build --vars $(FIXTURE_VARS) || true
	TICKWINDOWS_DB=$(FIXTURE)/warehouse.duckdb $(BIN)/dbt docs generate --static --vars $(FIXTURE_VARS)
	@echo "docs: open $(CURDIR)/target/static_index.html"

demo: setup
	bash scripts/demo.sh

bench: setup
	$(BIN)/python bench/bench_dbt.py
	$(BIN)/python bench/bench_liquidity.py

bench-batches: setup
	$(BIN)/python bench/bench_batches.py

bench-download: setup
	$(BIN)/python bench/bench_download.py

clean:
	rm -rf target logs warehouse .cache
