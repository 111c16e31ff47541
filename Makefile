# Quick start: `make run` (set up, lint and simulate the bundled example), `make test` (set up, run every test).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-packages run test bench clean docs fuzz messages

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

# The fuzz campaigns' long run: FUZZ_EXAMPLES inputs per surface, fresh random ones (`make test` runs a short,
# fixed-seed budget). Figures go to artifacts/fuzz-figures.txt; inputs that fail, to tests/fuzz/found/.
# Then atheris, coverage-guided, FUZZ_ATHERIS_RUNS inputs per surface where it installs (it has wheels for
# some CPython versions only).
FUZZ_EXAMPLES ?= 100000
FUZZ_ATHERIS_RUNS ?= 10000
FUZZ_SURFACES := spec stream-jsonl stream-gzip stream-csv convert journeys baseline results options

fuzz: $(STAMP)
	mkdir -p artifacts
	rm -f artifacts/fuzz-figures.txt
	status=0; \
	FUZZ_SEED=random FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_FIGURES=artifacts/fuzz-figures.txt \
		$(BIN)/python -m pytest tests/fuzz/test_campaigns.py tests/fuzz/test_live.py -p no:randomly -q -s || status=1; \
	$(BIN)/python -m pip install --quiet --only-binary=atheris -e '.[fuzz]' \
		|| echo "atheris does not install here: the coverage-guided runs are skipped"; \
	for surface in $(FUZZ_SURFACES); do \
		(cd tests && FUZZ_FIGURES=../artifacts/fuzz-figures.txt ../$(BIN)/python -m fuzz.atheris_run $$surface -atheris_runs=$(FUZZ_ATHERIS_RUNS) \
			-artifact_prefix=../artifacts/) || status=1; \
	done; \
	exit $$status

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python -m funnelspec.dsl.docs > docs/rules.md

# The reports' words marked _("…") in the code, gathered and merged into lang/ru.po: new ones come in with an
# empty translation (tests/test_lang.py fails until they are translated), gone ones are dropped.
MESSAGE_SOURCES = engine/report engine/diagnosis.py engine/cohorts.py engine/forecast/render.py engine/forecast/notes.py engine/diff_render.py
messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract --no-location --omit-header --no-default-keywords -k _ -k N_ -k ngettext:1,2 \
	  -k pgettext:1c,2 -o build/funnelspec.pot $(MESSAGE_SOURCES)
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -w 116 -l ru \
	  -i build/funnelspec.pot -o lang/ru.po

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
