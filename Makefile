# Fresh machine with Python 3.11: `make demo` and `make test` set up .venv themselves,
# installing the exact versions of requirements.lock (uv, from PyPI).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
# uv itself is pinned by the lock: one version everywhere.
UV_VERSION := $(shell sed -n 's/^uv==\([^ ;]*\).*/\1/p' $(LOCK))
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest release.
LOCK_FLAGS ?=
COMPILE := $(UV) pip compile --quiet --custom-compile-command "make lock" $(LOCK_FLAGS)

.PHONY: demo test test-fast lint format bench lock docs screenshots clean mutation

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip sync -q --python $(BIN)/python $(LOCK)
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The development lock (every extra, Python 3.11-3.13) and Binder's pins, taken from it.
lock: | $(UV)
	$(COMPILE) pyproject.toml --extra test --extra dask --extra voila --extra docs --extra dev \
	    --universal --python-version 3.11 -o $(LOCK)
	$(COMPILE) pyproject.toml --extra voila -c $(LOCK) --no-annotate \
	    --python-version 3.11 --python-platform x86_64-manylinux_2_28 -o binder/requirements.txt

# The runbook on the demo bundle: exit 1 (a FAIL, shop/cart's trust policy) is the expected verdict.
demo: $(STAMP)
	$(BIN)/irsa-nb run --bundle demo -n shop -s cart --out evidence/demo || test $$? -eq 1
	@echo "Evidence: evidence/demo/runbook.html (and runbook.ipynb, results.csv, results.json, manifest.json)"

test: $(STAMP)
	$(BIN)/python tools/check_lock.py
	$(BIN)/ruff check irsa_nb tests benchmarks tools notebooks
	$(BIN)/ruff format --check irsa_nb tests benchmarks tools notebooks
	$(BIN)/lint-imports
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site
	$(BIN)/python -m pytest -n 2 tests

# The inner loop (about a minute): no Jupyter kernels, browsers or multi-second tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not kernel and not browser and not slow" tests

lint: $(STAMP)
	$(BIN)/ruff check irsa_nb tests benchmarks tools notebooks

format: $(STAMP)
	$(BIN)/ruff format irsa_nb tests benchmarks tools notebooks
	$(BIN)/ruff check --fix irsa_nb tests benchmarks tools notebooks

# The documentation site at http://127.0.0.1:8000 (mkdocs.yml; rebuilt on every change).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# docs/images/*.png, rendered by chromium (Playwright) from the demo runbook and the Explorer.
screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_checks.py

clean:
	rm -rf $(VENV) .venv-3.* build mutants *.egg-info .pytest_cache .ruff_cache

# Mutation testing of irsa_nb/iam and irsa_nb/checks (mutmut; tools/mutation.py; not part of
# `make test`: hours on a shared 2-core machine). 25 mutants a module, seed 20, by default;
# MUTATION_FLAGS="--sample 0 --max-children 2" runs every mutant, two at a time.
MUTATION_FLAGS ?=
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py $(MUTATION_FLAGS)
