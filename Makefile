# Two commands do all the set-up on a fresh machine (Python >= 3.11 and make):
#   make serve   -- run returnpath on the embedded defaults (SQLite file, no broker)
#   make test    -- lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench clean

$(BIN)/returnpath: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check 'uv>=0.4'
	$(BIN)/uv pip install -q -p $(BIN)/python -c requirements.lock -e '.[dev]'
	touch $@

serve: $(BIN)/returnpath
	$(BIN)/returnpath serve

lint: $(BIN)/returnpath
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(BIN)/returnpath
	$(BIN)/uv pip install -q -p $(BIN)/python -c requirements.lock -e '.[dev,bench]'
	$(BIN)/python -m bench.corpus_score
	$(BIN)/python -m bench.mime_layers
	$(BIN)/python -m bench.sisimai_compare
	$(BIN)/python -m bench.smtp_throughput
	$(BIN)/python -m bench.api_latency

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
