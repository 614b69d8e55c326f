# Two commands do all the set-up on a fresh machine (Python >= 3.11 and make):
#   make serve   -- run returnpath on the embedded defaults (SQLite file, no broker)
#   make test    -- lint, type-check and run the whole test suite, with a coverage figure
#
# The install compiles src/returnpath/parsers/ with mypyc (hatch_build.py) into extension modules that sit
# next to the sources and shadow them on import; it is redone whenever a file under parsers/
# changes, so `make test` and `make serve` never run a stale build. After editing parsers/,
# run `make` before a bare `.venv/bin/pytest` (tests/parsers/test_compiled.py fails on a
# stale build). RETURNPATH_MYPYC=off make ...  works on plain Python (no compiled modules).
#
# Dependencies come from the hashed locks in requirements/ (`make lock` writes them from
# pyproject.toml): first every locked package with its hash checked, then the project itself
# without dependencies (an editable install of a local folder has no hash to check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RETURNPATH_MYPYC ?= auto
export RETURNPATH_MYPYC
PARSER_SOURCES := $(shell find src/returnpath/parsers -name '*.py')
INSTALLED := $(VENV)/.installed-mypyc-$(RETURNPATH_MYPYC)
LOCK := $(BIN)/uv pip compile -q pyproject.toml --universal --python-version 3.11 --generate-hashes

# The compiled parsers run no Python lines for coverage to count: on a compiled install they
# are left out of the figure (RETURNPATH_MYPYC=off make test measures them too).
ifeq ($(RETURNPATH_MYPYC),off)
COVERAGE_OMIT :=
else
COVERAGE_OMIT := */returnpath/parsers/*
endif
export COVERAGE_OMIT

# The parser tests run on these Pythons too (3.11 is the one of `make test`): they lean on
# the stdlib's email package, which changes between versions. Interpreters come from pyenv.
PYTHONS := 3.12 3.13
PYENV_ROOT ?= $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)
find_python = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),$(shell command -v python$(1)))

.PHONY: install serve test lint docs test-pythons bench lock clean

install: $(INSTALLED)

$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check 'uv>=0.4'

$(INSTALLED): pyproject.toml requirements/dev.txt hatch_build.py $(PARSER_SOURCES) | $(BIN)/uv
	@echo "returnpath: installing the locked dependencies into $(VENV) ..."
	$(BIN)/uv pip install -q --compile-bytecode -p $(BIN)/python --require-hashes -r requirements/dev.txt
	@echo "returnpath: installing returnpath (the first time it compiles the parsers with mypyc: about a minute) ..."
	$(BIN)/uv pip install -q --compile-bytecode -p $(BIN)/python --no-deps --reinstall-package returnpath -e .
	@# Bytecode for every module, ours included: uv compiles only what it installs anew and
	@# an editable install leaves our sources uncompiled; where PYTHONDONTWRITEBYTECODE is set
	@# (the CI machines) each command would otherwise compile its imports again at every
	@# start (returnpath --help: 0.11 s with bytecode, 0.2-0.3 s without; docs/cli.md)
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib src/returnpath >/dev/null
	rm -f $(VENV)/.installed-mypyc-*
	touch $@

serve: $(INSTALLED)
	$(BIN)/returnpath serve

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The manual (docs/, MkDocs Material), built offline into build/site; --strict: a broken
# link, a missing anchor or a page left out of the nav fails.
docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -q -d build/site

test: lint docs
	$(BIN)/pytest -q --durations=15 --cov=returnpath --cov-report=term:skip-covered

# The Pythons run side by side (`make -j2 test-pythons`, as .ci/run does): each is one
# compile and one pytest process, so two cores take half the time of one after the other.
test-pythons: $(PYTHONS:%=test-python-%)

build/shared:
	mkdir -p build
	test ! -d ../shared || ln -sfn $(abspath ../shared) build/shared

# Each Python gets its own copy of the tree under build/ (an editable install writes its
# compiled modules into the tree it installs from) and a fresh compilation; ../shared beside
# the copy gives it the corpus.
test-python-%: | build/shared
	@test -n "$(call find_python,$*)" || { echo "no Python $* here (pyenv install $*)" >&2; exit 1; }
	rm -rf build/py$*/src build/py$*/tests build/py$*/$(VENV)/.installed-mypyc-*
	mkdir -p build/py$*
	tar -c --exclude='*.so' --exclude=_mypyc_sources.json --exclude=__pycache__ \
	  pyproject.toml README.md hatch_build.py requirements src tests | tar -x -C build/py$*
	$(MAKE) --no-print-directory -C build/py$* -f $(CURDIR)/Makefile install PYTHON=$(call find_python,$*)
	cd build/py$* && $(VENV)/bin/pytest -q -p no:cacheprovider tests/parsers

bench: $(INSTALLED)
	$(BIN)/uv pip install -q -p $(BIN)/python --require-hashes -r requirements/bench.txt
	$(BIN)/python -m bench.corpus_score
	$(BIN)/python -m bench.mime_layers
	$(BIN)/python -m bench.sisimai_compare
	$(BIN)/python -m bench.smtp_throughput
	$(BIN)/python -m bench.api_latency

# Writes the locks from pyproject.toml, keeping every version already in them; to move one
# package: make lock LOCK_FLAGS='--upgrade-package NAME'.
lock: | $(BIN)/uv
	$(LOCK) $(LOCK_FLAGS) -o requirements/runtime.txt
	$(LOCK) $(LOCK_FLAGS) --extra dev -o requirements/dev.txt
	$(LOCK) $(LOCK_FLAGS) --extra dev --extra bench -o requirements/bench.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build .coverage
	rm -f src/returnpath/parsers/_mypyc_sources.json
	find src -name '*.so' -delete
