# Mashang: one entry point per task; CI calls the same targets (see .ci/run).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
HOST ?= 127.0.0.1
PORT ?= 8000
PWA_SOURCES := $(shell find pwa/src pwa/public pwa/index.html pwa/vite.config.ts pwa/tsconfig.json -type f 2>/dev/null)

.PHONY: install run test test-parallel lint format bench clean

install: $(VENV)/.installed pwa/node_modules/.installed tests/node/node_modules/.installed pwa/dist/index.html

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# --ignore-scripts: nothing here needs a native build (pouchdb-server runs in memory), and npm would otherwise
# compile sqlite3 and leveldown from source where its install-script policy allows it (it did under CI=true).
pwa/node_modules/.installed: pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

tests/node/node_modules/.installed: tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Built beside the served folder and swapped in, so a running gateway (or a browser test) never serves a half-empty
# dist/ while vite writes it.
pwa/dist/index.html: pwa/node_modules/.installed $(PWA_SOURCES)
	cd pwa && npm run build -- --outDir dist.next --emptyOutDir
	cd pwa && rm -rf dist && mv dist.next dist
	touch $@

run: install
	$(BIN)/mashang demo --data $(DATA)
	$(BIN)/mashang serve --data $(DATA) --host $(HOST) --port $(PORT)

test: install
	cd pwa && npm test
	$(BIN)/pytest

# The same suite in two parts side by side, the browser tests in one process and the others over two pytest-xdist
# processes (tests/split_run.py): ~10 min where
# `make test` takes ~16 on this 2-core machine at its quickest; what CI runs (.ci/run; README, "make test-parallel").
test-parallel: install
	cd pwa && npm test
	$(BIN)/python -m tests.split_run

lint: $(VENV)/.installed
	$(BIN)/ruff check server tests
	$(BIN)/ruff format --check server tests
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff check --fix server tests
	$(BIN)/ruff format server tests

# Every tests/bench/bench_*.py prints its figures; each runs on its own, so one failing does not hide the others.
bench: install
	@status=0; for b in tests/bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || status=1; done; exit $$status

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist tests/node/node_modules
