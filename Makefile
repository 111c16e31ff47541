# Quick start: `make run` (set up, lint and simulate the bundled example), `make test` (set up, run every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test bench clean docs

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/funnel lint examples/
	$(BIN)/funnel simulate examples/security_b2b.funnel --events examples/security_b2b.events.jsonl --report text

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python -m funnelspec.dsl.docs > docs/rules.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
