# The two commands of the README:  make book  (the main job)  and  make test.
# Each creates .venv with Python 3.11 and installs what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book demo test system-deps bench bench-book clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "dlcourse needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Build the book into _build/html; chapters execute, with a cache (_build/.jupyter_cache).
# The cache knows a chapter's own code only, so it is cleared when dlcourse or the
# pinned requirements change (their hash is kept in _build/.code_hash).
book: $(STAMP)
	@mkdir -p _build; code=$$(cat $$(find dlcourse -name '*.py' | sort) requirements.txt | sha256sum | cut -c1-16); \
	if [ "$$(cat _build/.code_hash 2>/dev/null)" != "$$code" ]; then \
		echo "dlcourse changed: executing every chapter again"; rm -rf _build/.jupyter_cache _build/.doctrees; \
	fi; echo "$$code" > _build/.code_hash
	DLCOURSE_BOOK_BUILD=1 $(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "The book is in _build/html: open _build/html/index.html in a browser."

# The seed exam's network, answered by dlcourse-calc.
demo: $(STAMP)
	$(BIN)/dlcourse-calc --file examples/seed_exam_network.txt --batch 64

# Everything: the book build (cached), then unit, property, doctest, CLI, grading and browser tests.
test: $(STAMP) system-deps book
	$(BIN)/python -m pytest -q

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser)
# and bubblewrap, the sandbox graded notebooks run in.
SYSTEM_PACKAGES := /usr/bin/chromium:chromium /usr/bin/bwrap:bubblewrap
system-deps:
	@missing=""; for entry in $(SYSTEM_PACKAGES); do \
		test -x "$${entry%%:*}" || missing="$$missing $${entry#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing:$$missing. Run  sudo apt-get install$$missing  and try again" >&2; exit 1; \
		fi; \
	fi

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python benchmarks/calc_vs_peers.py

# Cold (empty cache) and warm (nothing changed) book builds, timed.
bench-book: $(STAMP)
	$(BIN)/python benchmarks/book_build.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis _build
