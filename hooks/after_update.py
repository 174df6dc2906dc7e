"""Copier migration, run after every update: add the settings a new release or a newly enabled
feature needs to `.env`, then tell the user what changed.

Usage: after_update.py VERSION_FROM VERSION_TO (PEP 440, as Copier gives them)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from env_file import add_missing_settings
from packaging.version import InvalidVersion, Version  # Copier's own dependency.

CHANGELOG = Path(__file__).parent.parent / "CHANGELOG.md"
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
        if ((version := _release(name)) is None and new not in released and new > old)
        or (version is not None and old < version <= new)
    ]


def main(version_from: str, version_to: str) -> None:
    old, new = Version(version_from), Version(version_to)
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
