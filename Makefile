# Two commands for a newcomer: `make compare` (the local comparison, writes a report) and `make test`.
# Both set up what they need on first use: .venv (Python 3.11), node_modules (kinesalite) and, for the
# Glue compatibility suites, one .venv-glue-V per Glue version V the template offers (its Python and Spark).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The Glue versions template.yaml offers (GlueVersion): each has a compatibility suite on its exact Python and
# Spark (AWS Glue release notes; ../shared/reference/aws-facts.md).
GLUE_VERSIONS := 4.0 5.0 5.1 6.0
GLUE_4.0_PYTHON := 3.10
GLUE_4.0_SPARK := 3.3.0
GLUE_5.0_PYTHON := 3.11
GLUE_5.0_SPARK := 3.5.4
GLUE_5.1_PYTHON := 3.11
GLUE_5.1_SPARK := 3.5.6
GLUE_6.0_PYTHON := 3.13
GLUE_6.0_SPARK := 4.1.1
# A Python X.Y that runs: on PATH, else pyenv's (this kind of machine has 3.10, 3.11 and 3.13 there).
find_python = $(shell command -v python$(1) >/dev/null 2>&1 && python$(1) -c 'print(1)' >/dev/null 2>&1 && echo python$(1) || \
	(command -v pyenv >/dev/null 2>&1 && ls -d "$$(pyenv root)"/versions/$(1).*/bin/python$(1) 2>/dev/null | tail -n 1))
GLUE_STAMPS := $(foreach v,$(GLUE_VERSIONS),.venv-glue-$(v)/.installed)
# The template's security scanner (checkov) pins libraries the main environment cannot take: its own venv.
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
# The HTML report's browser test drives Debian's Chromium headless (through Playwright's Python client).
CHROMIUM := /usr/bin/chromium
OUT ?= runs/latest
PYTEST_ARGS ?=

export SAM_CLI_TELEMETRY := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup test test-main test-glue compare bench soak load lint clean

setup: $(STAMP) node_modules/.installed $(GLUE_STAMPS) $(SCAN_STAMP) $(CHROMIUM)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# setuptools warns about every editable install (a UserWarning from the build backend): not news to a newcomer.
	PYTHONWARNINGS=ignore::UserWarning $(PY) -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.venv-glue-%/.installed: requirements-glue.txt
	@python="$(call find_python,$(GLUE_$*_PYTHON))"; \
	if [ -z "$(GLUE_$*_SPARK)" ]; then echo "Glue $* is not one of GLUE_VERSIONS ($(GLUE_VERSIONS))."; exit 1; fi; \
	if [ -z "$$python" ]; then echo "Python $(GLUE_$*_PYTHON) not found: the Glue $* compatibility suite needs it."; exit 1; fi; \
	echo "Glue $*: Python $(GLUE_$*_PYTHON) ($$python), PySpark $(GLUE_$*_SPARK)"; \
	$$python -m venv .venv-glue-$*
	.venv-glue-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-glue-$*/bin/python -m pip install --quiet -r requirements-glue.txt "pyspark==$(GLUE_$*_SPARK)"
	touch $@

$(CHROMIUM):
	@echo "Installing Debian's chromium for the report's browser test"
	@as_root=$$( [ "$$(id -u)" = 0 ] && echo "" || echo "sudo -n" ); \
	export DEBIAN_FRONTEND=noninteractive; \
	$$as_root apt-get install -y -qq chromium >/dev/null 2>&1 || \
	{ $$as_root apt-get update -qq >/dev/null && $$as_root apt-get install -y -qq chromium >/dev/null; } || \
	{ echo "Could not install chromium: run 'sudo apt-get install chromium', then make again."; exit 1; }

$(SCAN_STAMP): requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

# The whole suite: the main suite (Python 3.11, PySpark 4), then the Glue compatibility suite on each Glue
# version's Python and Spark. One after the other: 2 cores.
test: setup
	$(MAKE) --no-print-directory test-main
	$(MAKE) --no-print-directory test-glue

test-main: $(STAMP) node_modules/.installed $(SCAN_STAMP) $(CHROMIUM)
	$(PY) -m pytest $(PYTEST_ARGS)

# Only the folders whose tests run on Glue's Python alone (PySpark and the shared contract, no boto3):
# the contract, the differential test, the pipeline, streaming and replay.
GLUE_TEST_PATHS := tests/shared tests/glue_streaming

test-glue: $(GLUE_STAMPS)
	@for v in $(GLUE_VERSIONS); do \
		echo "== Glue $$v compatibility suite (Python $$(.venv-glue-$$v/bin/python -c 'import platform; print(platform.python_version())'), PySpark $$(.venv-glue-$$v/bin/python -c 'import pyspark; print(pyspark.__version__)'))"; \
		.venv-glue-$$v/bin/python -m pytest -m glue_compat -p no:cacheprovider $(PYTEST_ARGS) $(GLUE_TEST_PATHS) || exit 1; \
	done

# One Glue version's suite: make test-glue-5.1
test-glue-%: .venv-glue-%/.installed
	.venv-glue-$*/bin/python -m pytest -m glue_compat -p no:cacheprovider $(PYTEST_ARGS) $(GLUE_TEST_PATHS)

compare: $(STAMP) node_modules/.installed
	$(PY) -m comparison run --mode local --profile quick --out $(OUT)

bench: $(STAMP) node_modules/.installed
	$(PY) -m benchmarks

# The local comparison at a steady 150 events/s for 10 minutes (about 11 minutes, and the Glue job's warm-up): sustained rates,
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
	rm -rf $(VENV) .venv-glue .venv-glue-* $(SCAN_VENV) node_modules .pytest_cache .hypothesis .aws-sam runs
