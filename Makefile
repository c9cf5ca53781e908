# Everything installs into a local virtual environment; nothing global is touched.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Optional extras to install with the dev tools; CI adds ray (.ci/run) for the Ray sweep tests.
EXTRAS ?= dev

.PHONY: run test lint bench clean mutation mutation-sample

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	# A pinned CPU build: an unpinned `torch` would pull a multi-GB CUDA build.
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/vaebalance train

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q -n 2

# Mutation testing of the core packages ([tool.mutmut] in pyproject.toml; docs/testing.md).
# Slow (hours on 2 cores for everything): not part of `make test` or CI. MUTANTS narrows the
# run to mutant-name globs, e.g. make mutation MUTANTS='vaebalance.balancers.control.*'.
MUTANTS ?=
mutation: $(STAMP)
	nice -n 10 $(VENV)/bin/mutmut run --max-children 2 $(MUTANTS)
	$(PY) bench/mutation_score.py $(MUTANTS)

# The score estimated on a seeded random sample of the mutants (bench/mutation_sample.txt, made
# by bench/mutation_sample.py after a first `mutmut run` generated them): ~1 hour on 2 cores.
mutation-sample: $(STAMP)
	nice -n 10 $(VENV)/bin/mutmut run --max-children 2 $$(grep -v '^#' bench/mutation_sample.txt)
	$(PY) bench/mutation_score.py --sample

clean:
	rm -rf $(VENV) runs mutants
