#!/usr/bin/env python3
"""Write the Gradescope autograder zip: the course checkout's committed files
with setup.sh and run_autograder at the root, where Gradescope looks for them.

    python deploy/gradescope/make_zip.py [OUT.zip]     (default: autograder.zip)

The zip holds the instructor's tree -- solutions and hidden tests included --
because the grader needs them; upload it to Gradescope only, never hand it out.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT_FILES = ("setup.sh", "run_autograder")


def committed_files(checkout: Path) -> list[str]:
    """The files git tracks in ``checkout`` (build outputs and the venv are not among them)."""
    out = subprocess.run(["git", "-C", str(checkout), "ls-files", "-z"], capture_output=True, check=True)
    return sorted(p for p in out.stdout.decode().split("\0") if p and (checkout / p).is_file())


def make_zip(out: Path, checkout: Path) -> list[str]:
    names = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ROOT_FILES:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable: Gradescope runs them as they are
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, (HERE / name).read_bytes())
            names.append(name)
        for rel in committed_files(checkout):
            if rel in ROOT_FILES:
                continue
            z.write(checkout / rel, rel)
            names.append(rel)
    return names


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="autograder.zip", help="the zip to write")
    ap.add_argument("--checkout", default=str(HERE.parents[1]), help="the course checkout (default: this one)")
    args = ap.parse_args(argv)
    names = make_zip(Path(args.out), Path(args.checkout))
    print(f"wrote {args.out}: {len(names)} files, {', '.join(ROOT_FILES)} at the root")
    return 0


if __name__ == "__main__":
    sys.exit(main())
