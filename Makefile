# The two commands of the README:  make demo  (the main job for now)  and  make test.
# Each creates .venv with Python 3.11 and installs what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "dlcourse needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The seed exam's network, answered by dlcourse-calc (the book build replaces this target's job).
demo: $(STAMP)
	$(BIN)/dlcourse-calc --file examples/seed_exam_network.txt --batch 64

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python benchmarks/calc_vs_peers.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
