# The README's two set-up commands: `make site` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.labpress-installed
NODE_STAMP := node_modules/.labpress-installed
# The Pyodide memory snapshot live widgets restore (generator/widgets/snapshot.py), kept beside Pyodide.
SNAPSHOT := node_modules/pyodide/labpress-snapshot/manifest.json

.PHONY: site test setup clean bench

site: setup
	$(BIN)/labpress build

# The test files are shared among one pytest process per core (at most 4); a file's tests stay
# together in one process, so its module fixtures are made once. TEST_JOBS=0 runs them in this one.
TEST_JOBS ?= auto
test: setup
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --maxprocesses 4 --dist loadfile)

# Benchmarks into bench/report.md and bench/results.json: builds of 100 and 1000
# posts beside Hugo (typesetting with transform.ToMath, and with raw maths) and
# Pelican, and the demo post in Chromium.
# QUICK=1: 100 posts, 3 runs, a shorter reader run.
bench: setup
	$(BIN)/python bench/run.py $(if $(QUICK),--quick)

setup: $(PY_STAMP) $(NODE_STAMP) $(SNAPSHOT)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(SNAPSHOT): $(NODE_STAMP) generator/widgets/make_snapshot.mjs $(wildcard generator/kernel/*.py)
	node generator/widgets/make_snapshot.mjs node_modules/pyodide generator/kernel $(dir $@)

clean:
	rm -rf build .labpress-cache
