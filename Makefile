# Two commands for everyone:
#   make lab    set everything up, then open JupyterLab on notebooks/00_start_here.ipynb
#   make test   set everything up, then run the whole test suite (pytest + nbval)
#
# Setup makes a .venv at the repo root with gorun_kit (editable) and every Python
# dependency, installs the Debian packages the labs need when running as root
# (or with passwordless sudo) and builds the C labs. Inside the conda
# environment of environment.yml (`conda activate gorun-kit`) no venv is made:
# that environment's python is used as it is.

SHELL := /bin/bash
ARGS ?=
PYTEST_ARGS ?=

ifeq ($(CONDA_DEFAULT_ENV),gorun-kit)
  PY := python
  SETUP_STAMP := .conda-setup.stamp
else
  PY := .venv/bin/python
  SETUP_STAMP := .venv/.setup.stamp
endif

NOTEBOOKS := $(wildcard notebooks/*.ipynb notebooks/exercises/*.ipynb)
# nbval settings shared by `make test` and `gorun-kit course`: see tests/nbval_sanitize.cfg.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=900

.PHONY: setup lab test test-py test-notebooks test-under-load notebooks clean-setup debian-packages grade
setup: debian-packages $(SETUP_STAMP) labs_c/build/.stamp

# Debian packages first: the venv needs python3-venv, the C labs need gcc.
$(SETUP_STAMP): pyproject.toml | debian-packages
	@bash scripts/setup-python.sh "$(PY)"
	@touch $@

debian-packages:
	@bash scripts/setup-debian.sh

labs_c/build/.stamp: $(shell find labs_c -name '*.c' -o -name '*.h' -o -name Makefile 2>/dev/null | grep -v '/build/') | debian-packages
	$(MAKE) -C labs_c
	@touch $@

lab: setup
	@$(PY) -m gorun_kit doctor || echo "(some live parts will skip; see above)"
	$(PY) -m jupyter lab notebooks/00_start_here.ipynb $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(ARGS)

test: setup
	GORUN_KIT_PROGRESS=0 $(PY) -m pytest tests $(NOTEBOOKS) $(NBVAL) $(PYTEST_ARGS)

# Pieces of `make test`, for working on one part.
test-py: setup
	$(PY) -m pytest tests $(PYTEST_ARGS)
test-notebooks: setup
	GORUN_KIT_PROGRESS=0 $(PY) -m pytest $(NOTEBOOKS) $(NBVAL) $(PYTEST_ARGS)

# The load check: `make test` with two CPU-bound busy processes beside it, so a
# race that only a loaded machine shows fails here rather than in a student's
# fresh clone. The busy loops are stopped whatever happens (trap), and end by
# themselves if this shell is killed. UNDER_LOAD is what runs (default: the
# whole `make test`); e.g. UNDER_LOAD='$(PY) -m pytest tests/test_paths.py'.
UNDER_LOAD ?= $(MAKE) --no-print-directory test PYTEST_ARGS='$(PYTEST_ARGS)'
test-under-load: setup
	@me=$$$$; busy=""; \
	stop() { [ -z "$$busy" ] || { kill $$busy 2>/dev/null; wait $$busy 2>/dev/null || :; \
	         echo "test-under-load: stopped busy processes $$busy"; busy=""; }; }; \
	trap 'stop' EXIT; trap 'stop; exit 130' INT; trap 'stop; exit 143' TERM; trap 'stop; exit 129' HUP; \
	for n in 1 2; do \
	  sh -c 'i=0; while :; do i=$$((i+1)); if [ $$((i % 200000)) -eq 0 ] && ! kill -0 '"$$me"' 2>/dev/null; then exit 0; fi; done' & \
	  busy="$$busy $$!"; \
	done; \
	echo "test-under-load: busy processes$$busy running; running: $(UNDER_LOAD)"; \
	start=$$(date +%s); $(UNDER_LOAD); status=$$?; \
	echo "test-under-load: exit status $$status after $$(( $$(date +%s) - start )) s under load"; \
	exit $$status

# Notebook sources: each notebooks/**/X.ipynb is paired with the percent script X.py
# (notebooks/jupytext.toml). Edit the .py, then `make notebooks` (or one of them:
# `make notebooks NB=notebooks/03_exec_to_process.py`) takes the cells from the newer
# file of each pair, executes the notebook in its own directory so the outputs are
# fresh, and writes both files again. tests/test_notebook_sources.py checks the pairs.
NB ?= $(NOTEBOOKS)
NB_IPYNB = $(patsubst %.py,%.ipynb,$(NB))
notebooks: setup
	$(PY) -m jupytext --sync $(NB_IPYNB)
	GORUN_KIT_PROGRESS=0 $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.record_timing=False $(NB_IPYNB)
	$(PY) -m jupytext --sync $(NB_IPYNB)

clean-setup:
	rm -rf .venv .conda-setup.stamp labs_c/build

# Grade exercises with the one grader students and CI share (points per check,
# JSON with --json, non-zero exit when a point is lost). Default: the course's
# own solutions; a student's work: make grade ARGS="release/notebooks/exercises".
grade: setup
	GORUN_KIT_PROGRESS=0 $(PY) -m gorun_kit course grade $(ARGS)
