"""Copier migration: refuse the answers an update cannot change, and say what to do instead.

Before an update writes anything, the answers given with `--data` are checked: a refusal stops
the update with the project untouched. After it, the answers given at the prompts are checked;
a refusal then puts the project back as it was (Copier only updates a clean, committed project,
so its last commit is that state) and fails the update.

Usage: fixed_answers.py ANSWERS_FILE ANSWERS_JSON [--undo]
"""

from __future__ import annotations

import json
import subprocess
import sys

import yaml  # Copier's own dependency, so present wherever this runs.

#: Why each answer is fixed once the service exists, and the way out.
FIXED_ANSWERS = {
    "database": (
        "An update cannot move a service to another database engine: its data, its migrations "
        "and its driver stay where they are. Keep database={old} (drop `--data database=...`). "
        "To change engines, render a new service with `copier copy --data database={new}` and "
        "move the data with the engines' own tools."
    ),
    "package_name": (
        "An update cannot rename the package: it would render a second package, src/{new}/, "
        "beside src/{old}/, which holds your code. Keep package_name={old} (drop "
        "`--data package_name=...`)."
    ),
}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def committed_answers(answers_file: str) -> dict[str, object]:
    """The answers of the project's last commit: what it was rendered with, before this update."""
    return yaml.safe_load(_git("show", f"HEAD:./{answers_file}")) or {}


def refusals(recorded: dict[str, object], requested: dict[str, object]) -> list[str]:
    return [
        f"Cannot change {name} from {recorded[name]} to {new}. "
        + FIXED_ANSWERS[name].format(old=recorded[name], new=new)
        for name, new in requested.items()
        if name in FIXED_ANSWERS and name in recorded and recorded[name] != new
    ]


def main(answers_file: str, answers_json: str, *options: str) -> int:
    problems = refusals(committed_answers(answers_file), json.loads(answers_json))
    if not problems:
        return 0
    if "--undo" in options:
        _git("reset", "--quiet", "--hard", "HEAD")
        _git("clean", "--quiet", "-d", "--force", ".")
        problems.append("The update was undone: the project is as it was before it.")
    print("\n".join(problems), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
