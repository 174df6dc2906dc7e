"""Copier migration, run before an update writes anything: when `--data` turns off a feature
that has tables, say what goes with it and what must happen to its tables first.

The update removes the feature's code and its migration branch; the tables stay in every
database until the branch is downgraded, and once its revisions are gone it can no longer be
(Alembic then stops at the missing revision). So the warning comes before any file changes, and
the downgrade, the one step that deletes rows, is the user's own (docs/updating.md).

Usage: features_off.py ANSWERS_FILE ANSWERS_JSON
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml  # Copier's own dependency, so present wherever this runs.
from fixed_answers import committed_answers

#: Where each feature's migration branch lives in a project; its branch label is its name.
MIGRATIONS = Path("migrations", "versions")
CREATED_TABLE = re.compile(r"op\.create_table\(\s*\"(?P<name>\w+)\"")


def feature_tables(project: Path, feature: str) -> list[str]:
    """The tables the feature's migration branch creates in this project."""
    return [
        match["name"]
        for revision in sorted((project / MIGRATIONS / feature).glob("*.py"))
        for match in CREATED_TABLE.finditer(revision.read_text())
    ]


def warning(feature: str, tables: list[str]) -> str:
    return (
        f"Turning {feature} off removes its code, its tests and its migration branch "
        f"`{feature}`. Its tables ({', '.join(tables)}) must be gone from every database of "
        f"this service first, the test database too: `uv run alembic downgrade "
        f"{feature}@base` drops them with every row in them; to keep a copy, dump them before "
        "(docs/updating.md, 'Turning a feature off'). A database that still holds them after "
        "this update stops `alembic upgrade heads` at a revision it cannot find. Not "
        "downgraded yet? Undo this update (`git reset --hard && git clean -fd`), downgrade, "
        "then update again."
    )


def main(answers_file: str, answers_json: str) -> None:
    recorded, requested = committed_answers(answers_file), json.loads(answers_json)
    for feature, value in requested.items():
        # `--data` gives the text as typed; Copier reads a boolean's answer as YAML.
        on = yaml.safe_load(value) if isinstance(value, str) else value
        turned_off = on is False and recorded.get(feature) is True
        if turned_off and (tables := feature_tables(Path.cwd(), feature)):
            print(warning(feature, tables), end="\n\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
