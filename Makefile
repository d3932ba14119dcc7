# `make`            set up, then release, check, export solution keys, Gradescope bundles and the student kit,
#                   and summarise.
# `make test`       set up, then run the whole test suite (real kernels, sandbox, LaTeX, browser).
# `make test-fast`  the tests that need no kernel, LaTeX or browser (under a minute): run it on every edit.
# `make lint`       ruff on the package, the tests, the benchmarks and the notebooks' code.
# Set-up is idempotent: .venv is rebuilt only when requirements.txt changed, LaTeX is installed only when
# xelatex is missing, MNIST is fetched only when a file is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
HW ?=

.PHONY: all setup system venv data release check solutions gradescope student bench summary test test-fast lint clean

all: setup data release check solutions gradescope student summary

setup: system venv

system:
	@scripts/install-system-deps.sh

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || { echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing requirements.txt into $(VENV) (torch is several GB the first time)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

data: venv
	@$(PY) -m autograder data

release: venv
	$(PY) -m autograder release $(HW)

check: venv data
	$(PY) -m autograder check $(HW)

# Each key executes once and is exported twice: build/solutions/hwN.pdf (+ hwN.pages.json, hwN.ipynb), the
# instructor's edition with every test, and build/solutions/public/hwN.pdf, for students after the due date
# (no hidden tests, no solution markers, no grading metadata).
solutions: venv data system
	$(PY) -m autograder solutions $(HW)

gradescope: venv
	$(PY) -m autograder gradescope $(HW)

# The student edition: build/student/ (release notebooks, the students' guide, the `dlhw` package), to publish
# as it is. Every homework's release goes in, whatever HW says.
student: venv release
	$(PY) -m autograder.student.kit build/student

# Grading speed (not part of the tests): 50 copies of the hw3 key with -j 1 and -j 2 against bare nbclient.
bench: setup data
	$(PY) benchmarks/grading.py $(BENCH_ARGS)

summary:
	@echo; echo "Produced:"; \
	for f in release/*/*.ipynb build/solutions/*.pdf build/solutions/public/*.pdf build/solutions/*.ipynb \
	  build/gradescope/*.zip; do \
	  [ -e "$$f" ] && printf '  %-40s %s\n' "$$f" "$$(du -h "$$f" | cut -f1)"; done; true

# Two workers; tests sharing an expensive fixture (a homework's built keys, the attack corpus' grading) run on one
# worker, which builds it once (tests/conftest.py). TEST_JOBS=1 runs them in one process.
TEST_JOBS ?= 2
test: setup data
	$(PY) -m pytest -n $(TEST_JOBS) --dist loadgroup

test-fast: venv
	$(PY) -m pytest -m "not slow"

lint: venv
	$(VENV)/bin/ruff check autograder tests benchmarks source
	$(VENV)/bin/ruff format --check autograder tests benchmarks

clean:
	rm -rf build
