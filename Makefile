# coursegate — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck bench clean screenshots

# Create or reuse .venv and install coursegate with its pinned dependencies.
$(STAMP): pyproject.toml requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[dev]'
	@touch $(STAMP)

# `make demo PORT=8080` serves on another port (default 8000).
PORT ?= 8000

demo: $(STAMP)
	$(BIN)/coursegate demo --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/coursegate

test: lint typecheck
	$(BIN)/python -m pytest -n auto

# docs/screenshots/*.png again: the browser journeys (tests/web/test_browser.py and
# tests/web/test_journey_*.py) with COURSEGATE_SCREENSHOTS=1, one at a time (they need
# Chromium: see docs/web.md; without it they are skipped, saying why).
screenshots: $(STAMP)
	COURSEGATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/web -k "browser or journey" -n 0 -o addopts="" -q -ra

BENCH_STAMP := $(VENV)/.bench-stamp

# The benchmarks' own references (numpy), on top of the development install.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
