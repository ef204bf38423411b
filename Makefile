# Quick start:  make feeds   (set up, then build the seed records into out/)
#               make test    (set up, type-check src/ with mypy, lint with ruff, then run the test
#                             suite; make test-fast: the same without the slow tests)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: feeds test test-fast serve clean

feeds: $(VENV)/.installed
	$(BIN)/frfeeds build out

test: $(VENV)/.installed-test
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check src tests benchmarks
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) out .out.frfeeds-* .pytest_cache .mypy_cache
