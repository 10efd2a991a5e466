# The two commands of the README:  make book  (the main job)  and  make test.
# Each creates .venv with Python 3.11 and installs what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book book-checked pdf translations translations-check demo test unit lint system-deps hub-env bench bench-book clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "dlcourse needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Build the book, both editions, into one site: the English one in _build/html, the Vietnamese
# one (the same chapters with the translations of locales/vi) in _build/html/vi.  Chapters
# execute once, with a cache (_build/.jupyter_cache) both editions read.  The book's own
# extensions (book/_ext/: fresh_outputs.py executes every chapter again when the code they run or
# the pinned requirements change, offline_pages.py keeps the widgets static), so a plain
# `jupyter-book build .` gives the same English site.
#
# BOOK_THREADS limits torch's threads in the chapters' kernels (empty: torch's default, every
# core).  `make test`, and so CI, builds with one thread, as a slow machine would run: every
# measurement in a chapter has a time budget, and CI shows whether the chapters keep theirs.
BOOK_THREADS ?=
BOOK_ENV = $(if $(BOOK_THREADS),OMP_NUM_THREADS=$(BOOK_THREADS) MKL_NUM_THREADS=$(BOOK_THREADS))
book: $(STAMP)
	$(BOOK_ENV) $(BIN)/jupyter-book build . --warningiserror --keep-going
	$(BOOK_ENV) $(BIN)/python -m dlcourse.book.editions vi
	@echo "The book is in _build/html: open _build/html/index.html (English) or _build/html/vi/index.html (Tiếng Việt)."

# Each edition as one PDF (_build/pdf/dlcourse-en.pdf, dlcourse-vi.pdf), printed by Chromium
# from the single-page build.
pdf: $(STAMP) system-deps book
	$(BIN)/python -m dlcourse.book.editions singlehtml en vi
	$(BIN)/python -m dlcourse.book.pdf en vi

# After an English edit: bring the Vietnamese catalogues up to date (changed messages become
# fuzzy, new ones empty), then translate them in locales/vi/LC_MESSAGES/book/<page>.po.
translations: $(STAMP)
	$(BIN)/python -m dlcourse.book.editions gettext
	$(BIN)/sphinx-intl update -p _build/gettext -l vi -d locales

# Fails when a page of the Vietnamese edition has an untranslated, fuzzy or broken message.
translations-check: $(STAMP)
	$(BIN)/python -m dlcourse.book.editions gettext
	$(BIN)/python -m dlcourse.book.translations check

# The seed exam's network, answered by dlcourse-calc.
demo: $(STAMP)
	$(BIN)/dlcourse-calc --file examples/seed_exam_network.txt --batch 64

# Everything: lint, both editions (cached; built with torch on one thread), the translation check,
# the PDFs, and unit, property, doctest, CLI, grading and browser tests.  The book's kernel runs on
# one thread, so the tests that do not read the built book (all but the `browser` ones) run beside
# it on the other core; when the book is built, the class's tests (CLASS_TESTS: a hub with 33
# servers, pools of graders) run on its core.  Their logs are kept in _build/book.log and
# _build/class_tests.log and printed at the end.  Then the browser tests read the built book.
CLASS_TESTS := tests/test_class_on_hub.py tests/test_grading_pool.py
test: BOOK_THREADS = 1
test: $(STAMP) system-deps hub-env lint
	@mkdir -p _build
	@( $(MAKE) --no-print-directory BOOK_THREADS=1 book-checked > _build/book.log 2>&1; echo $$? > _build/book.status; \
	   $(BIN)/python -m pytest -q $(CLASS_TESTS) > _build/class_tests.log 2>&1; echo $$? > _build/class_tests.status ) & \
	background=$$!; \
	$(BIN)/python -m pytest -q -m "not browser" $(addprefix --ignore=,$(CLASS_TESTS)); tests=$$?; \
	wait $$background; built=$$(cat _build/book.status); classes=$$(cat _build/class_tests.status); \
	echo "--- make book translations-check pdf (_build/book.log) ---"; cat _build/book.log; \
	echo "--- the class's tests (_build/class_tests.log) ---"; cat _build/class_tests.log; \
	echo "--- exit status: tests $$tests, book $$built, class tests $$classes ---"; \
	test $$tests -eq 0 && test $$built -eq 0 && test $$classes -eq 0
	$(BIN)/python -m pytest -q -m browser

# The book, its translation check and its PDFs, one after the other (what `make test` builds).
book-checked: book translations-check pdf

# The fast loop while working: unit, property, doctest and CLI tests, no book build, no browser,
# no notebooks graded in the sandbox (pytest markers `browser` and `slow`; see tests/conftest.py).
unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser and not slow"

# ruff on the package, tests, benchmarks and test data; on each assignment as the notebook it becomes
# (jupytext to ipynb in memory, nothing written into exercises/); the import layers and the types of
# calc, optim and grading (both configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	@status=0; for nb in exercises/source/*/*.md; do \
		$(BIN)/jupytext --to ipynb --output - "$$nb" | $(BIN)/ruff check --stdin-filename "$${nb%.md}.ipynb" - || status=1; \
	done; exit $$status
	$(BIN)/lint-imports
	$(BIN)/mypy

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser),
# bubblewrap, the sandbox graded notebooks run in, and for the class server (make hub-env) a
# Python every user can run, with venv, and npm for JupyterHub's proxy.
SYSTEM_PACKAGES := /usr/bin/chromium:chromium /usr/bin/bwrap:bubblewrap /usr/bin/npm:npm \
	/usr/bin/python3.11:python3.11 /usr/lib/python3.11/ensurepip/__init__.py:python3.11-venv
system-deps:
	@missing=""; for entry in $(SYSTEM_PACKAGES); do \
		test -e "$${entry%%:*}" || missing="$$missing $${entry#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing:$$missing. Run  sudo apt-get install$$missing  and try again" >&2; exit 1; \
		fi; \
	fi

# The class server's environment (exercises/hub/, exercises/README.md "A class on JupyterHub"):
# JupyterHub, JupyterLab with nbgrader and dlcourse (`pip install .`), in a virtual environment of
# the system's Python that every student's account can run (the project's .venv may use a Python
# under a private home), and JupyterHub's proxy, configurable-http-proxy, from npm; the servers'
# settings (exercises/hub/jupyter/: students', graders') in its etc/.  Installed again when the
# requirements, the settings or the package change.  `make test` builds it for the class test.
HUB_ENV ?= /opt/dlcourse-hub
HUB_PYTHON ?= /usr/bin/python3.11
CHP_VERSION := 4.6.3
HUB_STAMP := $(HUB_ENV)/.installed
hub-env: $(HUB_STAMP)
$(HUB_STAMP): exercises/hub/requirements.txt requirements.txt pyproject.toml $(wildcard exercises/hub/jupyter/*/* exercises/hub/jupyter/*/*/*) $(shell find dlcourse -name '*.py' -o -name '*.j2' -o -name '*.tpl' -o -name '*.json') | system-deps
	$(HUB_PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "the class server needs Python 3.11 or newer"'
	test -x $(HUB_ENV)/bin/python || $(HUB_PYTHON) -m venv $(HUB_ENV)
	$(HUB_ENV)/bin/python -m pip install --quiet --disable-pip-version-check -r exercises/hub/requirements.txt
	$(HUB_ENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall .
	npm install --silent --no-audit --no-fund --prefix $(HUB_ENV) configurable-http-proxy@$(CHP_VERSION)
	mkdir -p $(HUB_ENV)/etc/jupyter $(HUB_ENV)/etc/dlcourse-graders
	cp -R exercises/hub/jupyter/students/. $(HUB_ENV)/etc/jupyter/
	cp -R exercises/hub/jupyter/graders/. $(HUB_ENV)/etc/dlcourse-graders/
	chmod -R a+rX $(HUB_ENV)
	touch $(HUB_STAMP)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python benchmarks/calc_vs_peers.py

# Cold (empty cache) and warm (nothing changed) builds of both editions, timed, with every
# chapter's execution time; BOOK_THREADS=1 as CI builds.
bench-book: $(STAMP)
	$(BIN)/python benchmarks/book_build.py $(if $(BOOK_THREADS),--threads $(BOOK_THREADS))

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis _build
