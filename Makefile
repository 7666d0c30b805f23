# Two commands for a newcomer: `make compare` (the local comparison, writes a report) and `make test`.
# Both set up what they need on first use: .venv (Python 3.11), node_modules (kinesalite) and
# .venv-glue (Python 3.10 + PySpark 3.3.0, the versions of AWS Glue 4.0) for the compatibility suite.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Glue 4.0 runs Python 3.10: use a real 3.10 for the compatibility suite (pyenv's, if on PATH).
GLUE_PYTHON ?= $(shell command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'print(1)' >/dev/null 2>&1 && echo python3.10 || \
	(command -v pyenv >/dev/null 2>&1 && ls -d "$$(pyenv root)"/versions/3.10*/bin/python3.10 2>/dev/null | tail -n 1))
GLUE_VENV := .venv-glue
GLUE_STAMP := $(GLUE_VENV)/.installed
# The template's security scanner (checkov) pins libraries the main environment cannot take: its own venv.
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
OUT ?= runs/latest
PYTEST_ARGS ?=

export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test test-main test-glue compare bench soak load lint clean

setup: $(STAMP) node_modules/.installed $(GLUE_STAMP) $(SCAN_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(GLUE_STAMP): requirements-glue.txt
	@if [ -z "$(GLUE_PYTHON)" ]; then echo "Python 3.10 not found: it is needed for the Glue 4.0 compatibility suite (set GLUE_PYTHON)."; exit 1; fi
	$(GLUE_PYTHON) -m venv $(GLUE_VENV)
	$(GLUE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GLUE_VENV)/bin/python -m pip install --quiet -r requirements-glue.txt
	touch $@

$(SCAN_STAMP): requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

# The whole suite: the main suite on Python 3.11 + PySpark 4, then the Glue 4.0 compatibility suite
# (shared contract and Glue pipeline on Python 3.10 + PySpark 3.3.0). One after the other: 2 cores.
test: setup
	$(MAKE) --no-print-directory test-main
	$(MAKE) --no-print-directory test-glue

test-main: $(STAMP) node_modules/.installed $(SCAN_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Only the folders whose tests run on Glue's Python alone (PySpark and the shared contract, no boto3).
GLUE_TEST_PATHS := tests/shared $(wildcard tests/glue_streaming)

test-glue: $(GLUE_STAMP)
	$(GLUE_VENV)/bin/python -m pytest -m glue_compat -p no:cacheprovider $(PYTEST_ARGS) $(GLUE_TEST_PATHS)

compare: $(STAMP) node_modules/.installed
	$(PY) -m comparison run --mode local --profile quick --out $(OUT)

bench: $(STAMP) node_modules/.installed
	$(PY) -m benchmarks

# The local comparison at a steady 150 events/s for 10 minutes (about 11 minutes in all): sustained rates,
# memory per process over time, the accounting; figures into benchmarks/README.md and benchmarks/soak.json.
soak: $(STAMP) node_modules/.installed
	$(PY) -m benchmarks.soak

# locust users producing the workload to a local Kinesis; CSV statistics in runs/load/.
load: $(STAMP) node_modules/.installed
	$(PY) -m comparison.load --out runs/load

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) $(GLUE_VENV) $(SCAN_VENV) node_modules .pytest_cache .hypothesis .aws-sam runs
