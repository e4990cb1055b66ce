# Two commands for everyone:
#   make lab    set everything up, then open JupyterLab on your own working copy of the
#               course (COURSE_DIR, default ~/gorun-course): chapters, exercises, labs
#   make test   set everything up, then run the whole test suite (pytest + nbval)
# For teachers: make instructor opens this checkout itself (solutions and hidden tests).
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

.PHONY: setup lab student instructor test test-py test-notebooks test-under-load notebooks clean-setup debian-packages grade
setup: debian-packages $(SETUP_STAMP) labs_c/build/.stamp hub-proxy

# Debian packages first: the venv needs python3-venv, the C labs need gcc.
$(SETUP_STAMP): pyproject.toml | debian-packages
	@bash scripts/setup-python.sh "$(PY)"
	@touch $@

debian-packages:
	@bash scripts/setup-debian.sh

labs_c/build/.stamp: $(shell find labs_c -name '*.c' -o -name '*.h' -o -name Makefile 2>/dev/null | grep -v '/build/') | debian-packages
	$(MAKE) -C labs_c
	@touch $@

# A class on one machine (deploy/jupyterhub, docs/jupyterhub.md): the proxy JupyterHub starts,
# configurable-http-proxy from npm at the version package-lock.json pins, installed beside the
# hub's config. Without npm, setup goes on and says so (only the hub needs it).
HUB_PROXY := deploy/jupyterhub/node_modules/.bin/configurable-http-proxy
.PHONY: hub hub-proxy
hub-proxy: $(HUB_PROXY)
$(HUB_PROXY): deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json | debian-packages
	@if command -v npm >/dev/null 2>&1; then \
	    echo "setup: installing configurable-http-proxy into deploy/jupyterhub/node_modules"; \
	    npm ci --prefix deploy/jupyterhub --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "setup: npm not found; the one-machine JupyterHub needs it (apt-get install nodejs npm)" >&2; fi

# Start JupyterHub for a class on this machine (as root: each student's server runs as that
# student). Settings: GORUN_HUB_URL, GORUN_HUB_STATE, GORUN_HUB_STUDENTS, GORUN_HUB_ADMINS
# (see deploy/jupyterhub/jupyterhub_config.py); ARGS go to jupyterhub.
hub: setup
	@[ "$$(id -u)" = 0 ] || { echo "make hub: run as root; the hub starts each student's server as that student" >&2; exit 2; }
	$(PY) -m jupyterhub -f deploy/jupyterhub/jupyterhub_config.py $(ARGS)

# Student mode: make or refresh the working copy (the student release and the chapters;
# files you changed are never overwritten) and open it; gorun-kit is on the PATH of the
# Lab's terminals. Instructor mode: the checkout, where notebooks/exercises and labs_c hold
# the solutions. ARGS go to jupyter lab (e.g. ARGS=--no-browser).
COURSE_DIR ?= $(HOME)/gorun-course
lab student: setup
	@$(PY) -m gorun_kit doctor || echo "(some live parts will skip; see above)"
	$(PY) -m gorun_kit course lab --dir "$(COURSE_DIR)" -- $(ARGS)

instructor: setup
	@$(PY) -m gorun_kit doctor || echo "(some live parts will skip; see above)"
	$(PY) -m gorun_kit course lab --instructor -- $(ARGS)

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
# fresh, puts it into the form JupyterLab saves (gorun_kit/course/saved.py: the kernel's
# kernelspec, consecutive streams merged; so opening it in Lab changes nothing), and
# writes both files again. tests/test_notebook_sources.py checks the pairs,
# tests/test_saved_form.py the saved form.
NB ?= $(NOTEBOOKS)
NB_IPYNB = $(patsubst %.py,%.ipynb,$(NB))
notebooks: setup
	$(PY) -m jupytext --sync $(NB_IPYNB)
	GORUN_KIT_PROGRESS=0 $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.record_timing=False $(NB_IPYNB)
	$(PY) -m gorun_kit.course.saved $(NB_IPYNB)
	$(PY) -m jupytext --sync $(NB_IPYNB)
	$(PY) -m gorun_kit.course.saved $(NB_IPYNB)

clean-setup:
	rm -rf .venv .conda-setup.stamp labs_c/build

# Grade exercises with the one grader students and CI share (points per check,
# JSON with --json, non-zero exit when a point is lost). Default: the course's
# own solutions; a student's work: make grade ARGS="release/notebooks/exercises".
grade: setup
	GORUN_KIT_PROGRESS=0 $(PY) -m gorun_kit course grade $(ARGS)

# Mutation testing with mutmut (the `mutation` extra; not part of `make test` or CI, see
# docs/testing.md). For each module of MODULE (default: every module pyproject.toml's
# [tool.mutmut] mutates) mutmut starts from an empty mutants/ (git-ignored), runs the tests
# listed there once to learn which test covers which function, then runs only the covering
# tests against every mutant of that module; the counts are printed per module.
# `.venv/bin/mutmut show <name>` shows one mutant afterwards.
MUTATION_MODULES := gorun_kit/lookpath gorun_kit/build.py gorun_kit/cache.py gorun_kit/trace gorun_kit/threads \
    gorun_kit/timeline $(addprefix gorun_kit/course/,grade.py nbgrader.py variant.py markup.py sandbox.py \
    classgrade.py files.py saved.py workspace.py run.py rpc.py selfcheck.py layout.py release.py claims.py cellrun.py)
MODULE ?= $(MUTATION_MODULES)
# e.g. MUTMUT_ARGS="--max-children 1" to leave cores to other work
MUTMUT_ARGS ?=
MUTMUT := $(if $(filter python,$(PY)),mutmut,.venv/bin/mutmut)
# A mutant can send the kit's cache, a scratch directory or a sweep anywhere (cache_dir()
# falling back to HOME, mkdtemp without dir= landing in $$TMPDIR): it runs with HOME, TMPDIR
# and the kit cache inside mutants/, so what it writes or sweeps is mutmut's copy, never the
# user's files. Go keeps the user's build and module caches (warm builds).
MUTATION_ENV = env -u XDG_CACHE_HOME GORUN_KIT_PROGRESS=0 \
    GOCACHE="$${GOCACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/go-build}" GOPATH="$${GOPATH:-$$HOME/go}" \
    HOME="$$PWD/mutants/home" TMPDIR="$$PWD/mutants/tmp" GORUN_KIT_CACHE="$$PWD/mutants/home/kit-cache"
.PHONY: mutation-tracer
# The C tracer's named mutants (scripts/tracer_mutants.py); ARGS e.g. --only NAME, -j 2
mutation-tracer: setup
	flock /tmp/gorun-kit-bench.lock $(PY) scripts/tracer_mutants.py $(ARGS)
.PHONY: mutation-gdbscripts
# The gdb scripts' named mutants against real gdb (scripts/gdbscript_mutants.py); ARGS e.g. --only NAME, --fake
mutation-gdbscripts: setup
	$(PY) scripts/gdbscript_mutants.py $(ARGS)

.PHONY: mutation
mutation: setup
	@$(PY) -c 'import mutmut' 2>/dev/null || $(PY) -m pip install -q -e '.[mutation]'
	@set -e; for m in $(MODULE); do \
	    [ -e "$$m" ] || { echo "make mutation: MODULE=$$m does not exist (give a package directory or a .py file)" >&2; exit 2; }; \
	    glob="$$(echo "$${m%.py}" | sed 's,/*$$,,; s,/,.,g').*"; \
	    rm -rf mutants; mkdir -p mutants/tmp mutants/home; \
	    echo "== mutation: $$m (mutants $$glob; mutmut's output in mutants/run.log)"; \
	    $(MUTATION_ENV) $(MUTMUT) run $(MUTMUT_ARGS) "$$glob" > mutants/run.log 2>&1 || { tail -40 mutants/run.log >&2; exit 1; }; \
	    $(MUTMUT) results --all true | awk -v mod="$$m" -v prefix="$${glob%\*}" ' \
	        index($$1, prefix) == 1 { s = $$0; sub(/^[^:]*: /, "", s); n[s]++; total++ } \
	        END { k = n["killed"] + n["timeout"]; \
	              printf "%s: %d mutants: killed %d, survived %d, no tests %d, timeout %d, suspicious %d, skipped %d, not checked %d; score %.0f%%\n", \
	                     mod, total, n["killed"], n["survived"], n["no tests"], n["timeout"], n["suspicious"], n["skipped"], \
	                     n["not checked"], total ? 100 * k / total : 0 }'; \
	done
