# Two commands on a fresh machine: `make demo` and `make test`. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install requirements dev-setup demo test test-faults test-hostile mutations dev lint format gates check-defs run-checks dashboard bench bench-scale1000 bench-fixed-cost bench-latency clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

help:  ## this list: each target and what it does
	@awk -F':.*## ' '/^[a-zA-Z0-9_-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP)  ## create .venv with the project and its dev dependencies

requirements: $(VENV)/.requirements  ## .venv with the runtime requirements only, pinned and hash-checked by requirements.lock
$(VENV)/.requirements: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock  # exactly the lock, hash-checked
	$(BIN)/pip install --quiet --no-deps -e .  # the project itself: its dependencies all came from the lock
	$(BIN)/pip check
	touch $@

dev-setup: $(STAMP)  ## .venv with the dev tools as well: pytest, ruff, bandit, pip-audit, moto, playwright

demo: $(STAMP)  ## embedded default + seed totesys (scale 1) + etl_job + summary
	$(BIN)/reveries demo

test: $(STAMP)  ## the test suite (real PostgreSQL, real S3 on loopback), fault-injection suite included
	$(BIN)/pytest -q -n auto  # pytest-xdist: one worker per core, each with its own PostgreSQL and S3

test-faults: $(STAMP)  ## only the fault-injection suite (killed runs, outages, corrupt objects, drift, races)
	$(BIN)/pytest -q -m faults

test-hostile: $(STAMP)  ## only the hostile-input suite (bad source values, DSNs, keys, oversized objects)
	$(BIN)/pytest -q -m hostile

mutations: $(STAMP)  ## each registered mutation of a check or figure must fail its test (docs/testing.md)
	$(BIN)/python -m reveries_pipeline_tests.mutations

dev: $(STAMP)  ## embedded default + dg dev, schedule and sensors on
	$(BIN)/reveries dev

dashboard: $(STAMP)  ## the live sales dashboard over the warehouse
	$(BIN)/reveries dashboard

lint: $(STAMP)
	$(BIN)/ruff check reveries_pipeline reveries_pipeline_tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format reveries_pipeline reveries_pipeline_tests benchmarks

gates: $(STAMP)  ## the offline quality gates (.ci/run runs them before make test): ruff, format check, bandit
	$(BIN)/ruff check reveries_pipeline reveries_pipeline_tests benchmarks
	$(BIN)/ruff format --check reveries_pipeline reveries_pipeline_tests benchmarks
	$(BIN)/bandit -q -r reveries_pipeline -c pyproject.toml

check-defs: $(STAMP)  ## dg check defs: the code location loads (assets, checks, jobs, schedules, sensors, resources)
	$(BIN)/dg check defs

run-checks: gates check-defs  ## quality gates: the offline ones, dg check defs, coverage >= 90%, pip-audit
	$(BIN)/pytest -q -n auto --cov=reveries_pipeline --cov-report=term --cov-fail-under=90
	$(BIN)/pip-audit -r requirements.lock --require-hashes --disable-pip --strict  # what ships; needs PyPI's vulnerability API: fails (never passes silently) offline

bench: $(STAMP)  ## etl_job against the floor at scales 1, 10 (and 100 with SCALES="1 10 100"): times, ratio, peak RSS
	$(BIN)/python -m benchmarks.bench_etl --scales $(or $(SCALES),1 10)

bench-scale1000: $(STAMP)  ## the same at scale 1000 only (48 M source rows: ~10 GB free disk and RAM, many minutes)
	$(BIN)/python -m benchmarks.bench_etl --scales 1000 --out benchmarks/results/etl-floor-scale1000.md

bench-fixed-cost: $(STAMP)  ## where an idle etl_job run's seconds go, `reveries run` and `dagster job execute`
	$(BIN)/python -m benchmarks.fixed_cost --out benchmarks/results/fixed-cost.md

bench-latency: $(STAMP)  ## change -> warehouse latency under reveries dev (MODE=poll|logical), idle runs and CPU
	$(BIN)/python -m benchmarks.bench_latency --mode $(or $(MODE),poll) --out benchmarks/results/latency-$(or $(MODE),poll).md

clean:
	rm -rf .reveries .pytest_cache .ruff_cache
