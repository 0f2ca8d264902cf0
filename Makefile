# The two commands: `make run` and `make test`.  Both set themselves up on a fresh
# Debian 12 machine (as root they apt-get what is missing).
PYTHON ?= python3
VENV ?= .venv
STATE_DIR ?= ./var
RUN_FLAGS ?=
PYTEST_FLAGS ?=
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	scripts/setup-system.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

.test-tools: scripts/setup-system.sh
	scripts/setup-system.sh test
	touch $@

run: $(BIN)/.installed
	$(BIN)/printbridge run --board emulator --state-dir $(STATE_DIR) $(RUN_FLAGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .

test: $(BIN)/.installed .test-tools lint
	$(BIN)/python -m pytest $(PYTEST_FLAGS)

bench: $(BIN)/.installed .test-tools
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .test-tools var build *.egg-info .pytest_cache
