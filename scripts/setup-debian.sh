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
)
missing=()
for cmd in "${!want[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=(${want[$cmd]})
done
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
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
