# Fresh machine with Python 3.11: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# The runbook on the demo bundle: exit 1 (a FAIL, shop/cart's trust policy) is the expected verdict.
demo: $(STAMP)
	$(BIN)/irsa-nb run --bundle demo -n shop -s cart --out evidence/demo || test $$? -eq 1
	@echo "Evidence: evidence/demo/runbook.html (and runbook.ipynb, results.csv, results.json, manifest.json)"

test: $(STAMP)
	$(BIN)/ruff check irsa_nb tests benchmarks tools notebooks
	$(BIN)/ruff format --check irsa_nb tests benchmarks tools notebooks
	$(BIN)/python -m pytest -n 2 tests

lint: $(STAMP)
	$(BIN)/ruff check irsa_nb tests benchmarks tools notebooks

format: $(STAMP)
	$(BIN)/ruff format irsa_nb tests benchmarks tools notebooks
	$(BIN)/ruff check --fix irsa_nb tests benchmarks tools notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_checks.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
