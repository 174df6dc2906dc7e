"""Copier migration, run after every update: remove the packages the update emptied, add the
settings a new release or a newly enabled feature needs to `.env`, then tell the user what
changed.

Usage: after_update.py VERSION_FROM VERSION_TO (PEP 440, as Copier gives them)
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from env_file import add_missing_settings
from packaging.version import InvalidVersion, Version  # Copier's own dependency.

CHANGELOG = Path(__file__).parent.parent / "CHANGELOG.md"
#: Where the template's packages live in a project.
PACKAGE_ROOTS = ("src", "tests", "migrations")
#: A section of CHANGELOG.md: its heading `## [0.2.0] - 2026-12-01` or `## [Unreleased]`, and body.
SECTION = re.compile(r"^## \[(?P<name>[^\]]+)\].*?(?=^## \[|\Z)", re.M | re.S)


def _release(name: str) -> Version | None:
    try:
        return Version(name)
    except InvalidVersion:
        return None  # "Unreleased"


def changes_between(changelog: str, old: Version, new: Version) -> list[str]:
    """The CHANGELOG sections a project moving from `old` to `new` has not seen yet: releases
    after `old` up to `new`, and the unreleased section when `new` is no release itself."""
    sections = [(match["name"], match.group().strip()) for match in SECTION.finditer(changelog)]
    released = {version for name, _ in sections if (version := _release(name))}
    return [
        text
        for name, text in sections
        if "\n" in text  # a heading alone (an Unreleased section just started) tells nothing
        and (
            ((version := _release(name)) is None and new not in released and new > old)
            or (version is not None and old < version <= new)
        )
    ]


def _holds_only_caches(directory: Path) -> bool:
    """Python's bytecode caches in it and nothing else, or directories of the same kind."""
    entries = list(directory.iterdir())
    return bool(entries) and all(
        entry.is_dir() and (entry.name == "__pycache__" or _holds_only_caches(entry))
        for entry in entries
    )


def remove_emptied_packages(project: Path) -> list[Path]:
    """The directories an update emptied, which git leaves behind for the bytecode caches in
    them (a feature turned off, a module moved): removed, so that nothing of the feature stays
    (an emptied package would still import, as a namespace package)."""
    emptied = [
        directory
        for root in PACKAGE_ROOTS
        if (project / root).is_dir()
        for directory in sorted((project / root).rglob("*"))
        if directory.is_dir()
        and directory.name != "__pycache__"
        and "__pycache__" not in directory.parts
        and _holds_only_caches(directory)
    ]
    outermost = [d for d in emptied if not set(d.parents).intersection(emptied)]
    for directory in outermost:
        shutil.rmtree(directory)
    return outermost


def main(version_from: str, version_to: str) -> None:
    old, new = Version(version_from), Version(version_to)
    remove_emptied_packages(Path.cwd())
    added = add_missing_settings(f"Added by `copier update` to {new}, from .env.example")
    changes = changes_between(CHANGELOG.read_text(), old, new)
    if changes:
        print(f"\nWhat changed in the template since {old}:\n")
        print("\n\n".join(changes))
    if added:
        print(f"\nAdded to .env, from .env.example: {', '.join(added)}.")
        print("Nothing already in .env was changed; commented-out settings keep their defaults.")
    elif not Path(".env").exists():
        print("\nNo .env here: compare your settings with .env.example, which lists them all.")


if __name__ == "__main__":
    main(*sys.argv[1:])
