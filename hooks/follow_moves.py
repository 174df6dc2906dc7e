"""Copier migration, run after every update: a project's own edits to a file that the template
moved follow the file to its new place.

Copier sees a moved file as one file deleted and another one added, so the edits a team made to
the old file would stay behind in git history. For each move in `MOVES` that this update
crossed (the project's last commit has the old file, the update removed it and wrote the new
one), the team's changes (the old file as the template shipped it, against the team's version)
are merged into the new file with `git merge-file`; where they collide with the template's own
changes, both are kept between conflict markers. Standard library only.

Usage: follow_moves.py VERSION_FROM PACKAGE_NAME
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE_ROOT = Path(__file__).parent.parent

#: Every file the template has moved, old place and new, in the project; `{package}` is the
#: package name. Only files the template ships as they are (not `.jinja`) can be followed: their
#: old version is read from the template's history. The update tier edits each one.
MOVES = [
    {
        "since": "0.2.0",
        "old": "src/{package}/core/pagination.py",
        "new": "src/{package}/admin/pagination.py",
    },
    {"old": "src/{package}/core/codes.py", "new": "src/{package}/auth/codes.py"},
]


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _shipped(version: str, path: str) -> str | None:
    """The file as the template shipped it at `version`, if it shipped it as it is."""
    source = f"template/{path.replace('{package}', '{{ package_name }}')}"
    shown = _git("show", f"{version}:{source}", cwd=TEMPLATE_ROOT)
    return shown.stdout if shown.returncode == 0 else None


def follow(version_from: str, package: str, old_pattern: str, new_pattern: str) -> str | None:
    """Merge the team's edits of one moved file into its new place; a line saying what was
    done, or None when the move is not this update's or the team had not changed the file."""
    old, new = old_pattern.format(package=package), new_pattern.format(package=package)
    ours = _git("show", f"HEAD:./{old}")
    if ours.returncode != 0 or Path(old).exists() or not Path(new).exists():
        return None
    base = _shipped(version_from, old_pattern)
    if base is None:
        return f"{old} moved to {new}; see your version with `git show HEAD:./{old}`."
    if base == ours.stdout:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        base_file, ours_file = Path(scratch, "base"), Path(scratch, "ours")
        base_file.write_text(base)
        ours_file.write_text(ours.stdout)
        merged = _git(
            *("merge-file", "-L", "after updating", "-L", "last update"),
            *("-L", f"your {old}", new, str(base_file), str(ours_file)),
        )
    if merged.returncode == 0:
        return f"{old} moved to {new}: your changes to it are there now."
    return f"{old} moved to {new}: your changes to it are there, with conflicts to resolve."


def main(version_from: str, package: str) -> None:
    for move in MOVES:
        if said := follow(version_from, package, move["old"], move["new"]):
            print(said)


if __name__ == "__main__":
    main(*sys.argv[1:])
