#!/usr/bin/env bash
# Install gorun_kit (editable) with the notebooks' and the tests' extras into the Python the Makefile chose.
# $1 is .venv/bin/python (a venv is created) or python (the active conda env).
set -euo pipefail
py="$1"
if [[ "$py" == .venv/* ]]; then
    if [[ -x "$py" ]] && ! "$py" -m pip --version >/dev/null 2>&1; then
        # A venv made while python3-venv was missing has a python but no pip.
        echo "setup: .venv is incomplete (no pip); making it again"
        rm -rf .venv
    fi
    if [[ ! -x "$py" ]]; then
        base="$(command -v python3 || true)"
        [[ -n "$base" ]] || { echo "setup: python3 not found; install Python >= 3.10 first" >&2; exit 1; }
        "$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
            || { echo "setup: $base is older than 3.10; install Python >= 3.10" >&2; exit 1; }
        echo "setup: creating .venv with $base"
        "$base" -m venv .venv
        "$py" -m pip install --quiet --upgrade pip
    fi
else
    echo "setup: using the active conda environment ($CONDA_PREFIX)"
fi
echo "setup: installing gorun_kit and its Python dependencies"
"$py" -m pip install --quiet --disable-pip-version-check -e '.[lab,test,hub]'
