#!/usr/bin/env bash
# Install the Debian packages the labs need, when they are missing and we may:
# as root, or with passwordless sudo. Otherwise say what to install and go on
# (the doctor and the notebooks skip the parts that need a missing tool).
set -uo pipefail
# command to test for  ->  Debian package
declare -A want=(
    [cc]=gcc [make]=make [dot]=graphviz [strace]=strace [gdb]=gdb
    [wine]="wine wine64" [x86_64-w64-mingw32-gcc]=gcc-mingw-w64-x86-64
    [chromium]="chromium chromium-driver"  # tests/test_browser.py (Playwright drives Debian's chromium)
    [java]=default-jdk-headless            # chapter 5's start-up comparison; the doctor lists it
    [node]=nodejs [npm]=npm                # configurable-http-proxy for the one-machine hub (deploy/jupyterhub)
    [bwrap]=bubblewrap                     # grading runs student code in a sandbox (gorun_kit.course.sandbox)
)
missing=()
for cmd in "${!want[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=(${want[$cmd]})
done
# A CJK font: the seed's Chinese quotations in the notebooks and in matplotlib figures
# (gorun_kit/viz/fonts.py puts it in matplotlib's fallback list). No command to test for,
# so ask fontconfig for a font covering Chinese, or dpkg for the package itself.
if ! { command -v fc-list >/dev/null 2>&1 && [[ -n "$(fc-list :lang=zh family 2>/dev/null)" ]]; } &&
   ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'ok installed'; then
    missing+=(fonts-noto-cjk)
fi
# The .venv needs Debian's venv module (ensurepip), which python3 alone lacks.
if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
else
    missing+=(python3 python3-venv)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: not a Debian/Ubuntu system; please install: ${missing[*]}" >&2
    exit 0
fi
if [[ "$(id -u)" == 0 ]]; then sudo=""
elif sudo -n true 2>/dev/null; then sudo="sudo -n"
else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 0
fi
echo "setup: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    # One name this distribution lacks (Ubuntu ships chromium as a snap, for
    # one) must not keep the others out: install them one at a time.
    failed=()
    for pkg in "${missing[@]}"; do
        $sudo apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null 2>&1 || failed+=("$pkg")
    done
    if [[ ${#failed[@]} -gt 0 ]]; then
        echo "setup: could not install: ${failed[*]} (the parts that need them will skip; see gorun-kit doctor)" >&2
    fi
fi
