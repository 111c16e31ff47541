# Quick start: `make run` (set up, lint and simulate the bundled example), `make test` (set up, run every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-packages run test bench clean docs

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/funnel lint examples/
	$(BIN)/funnel simulate examples/security_b2b.funnel --events examples/security_b2b.events.jsonl --report text

# Debian packages the tests need beyond Python: PostgreSQL's server for the store tests. Installed only where
# it is missing and apt-get can run (root, as in CI); elsewhere those tests skip and say why.
PG_INITDB = $(wildcard /usr/lib/postgresql/*/bin/initdb)
system-packages:
ifeq ($(PG_INITDB),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q postgresql >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; } || \
	  echo "could not install postgresql: its tests will skip"; \
	else echo "PostgreSQL is not installed: its tests will skip (as root: apt-get install -y postgresql)"; fi
endif

test: $(STAMP) system-packages
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python -m funnelspec.dsl.docs > docs/rules.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
