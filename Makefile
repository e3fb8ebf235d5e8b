# Developer entry points. `make run` serves the plugin for real; `make test` runs the test suite.
SHELL := /bin/bash
VENV := $(CURDIR)/.venv

export NETBOX_CONFIGURATION ?= devtools.netbox_configuration
export NETBOX_ROOT ?= $(CURDIR)/.netbox
export PYTHONPATH := $(CURDIR)
export PATH := $(VENV)/bin:$(PATH)

.PHONY: run test lint db bench clean-db prerequisites-run prerequisites-test

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || "$$(devtools/find-python.sh)" -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# System packages and services (PostgreSQL, Redis, libpq-dev; for tests also Chromium, its driver and systemd):
# installed and started when run as root, otherwise the exact command to run is printed before anything starts.
prerequisites-run prerequisites-test: prerequisites-%:
	devtools/prerequisites.sh $*

db: $(VENV)/.installed
	mkdir -p $(NETBOX_ROOT)
	python -m devtools.dbsetup template

lint: $(VENV)/.installed
	ruff check .

# Most of the suite waits on processes it starts (schedulers, RQ workers, NetBox, Chromium), so parallel workers
# (pytest-xdist) shorten it even on two cores; `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2

test: prerequisites-test lint db
	python -m pytest -n $(TEST_WORKERS) $(ARGS)

run: prerequisites-run db
	python -m devtools.run $(ARGS)

bench: db
	python -m bench $(ARGS)

clean-db: $(VENV)/.installed
	python -m devtools.dbsetup drop
