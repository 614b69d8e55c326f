# Two commands do all the set-up on a fresh machine (Python >= 3.11 and make):
#   make serve   -- run returnpath on the embedded defaults (SQLite file, no broker)
#   make test    -- lint, type-check and run the whole test suite
#
# The install compiles src/returnpath/parsers/ with mypyc (hatch_build.py) into extension modules that sit
# next to the sources and shadow them on import; it is redone whenever a file under parsers/
# changes, so `make test` and `make serve` never run a stale build. After editing parsers/,
# run `make` before a bare `.venv/bin/pytest` (tests/parsers/test_compiled.py fails on a
# stale build). RETURNPATH_MYPYC=off make ...  works on plain Python (no compiled modules).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RETURNPATH_MYPYC ?= auto
export RETURNPATH_MYPYC
PARSER_SOURCES := $(shell find src/returnpath/parsers -name '*.py')
INSTALLED := $(VENV)/.installed-mypyc-$(RETURNPATH_MYPYC)

.PHONY: install serve test lint bench clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml requirements.lock hatch_build.py $(PARSER_SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check 'uv>=0.4'
	$(BIN)/uv pip install -q -p $(BIN)/python -c requirements.lock --reinstall-package returnpath -e '.[dev]'
	rm -f $(VENV)/.installed-mypyc-*
	touch $@

serve: $(INSTALLED)
	$(BIN)/returnpath serve

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(INSTALLED)
	$(BIN)/uv pip install -q -p $(BIN)/python -c requirements.lock -e '.[dev,bench]'
	$(BIN)/python -m bench.corpus_score
	$(BIN)/python -m bench.mime_layers
	$(BIN)/python -m bench.sisimai_compare
	$(BIN)/python -m bench.smtp_throughput
	$(BIN)/python -m bench.api_latency

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
	rm -f src/returnpath/parsers/_mypyc_sources.json
	find src -name '*.so' -delete
