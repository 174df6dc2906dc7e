"""The service's `.env`, which Copier never renders: it is git-ignored, so secrets stay out of the
repository and out of `.copier-answers.yml`.

On copy (`python env_file.py create`, a task), `.env` is written from `.env.example` with fresh
secrets. After an update, `add_missing_settings` appends what `.env.example` has and `.env` lacks,
so a feature turned on later finds its settings (and a fresh secret) in place; nothing already in
`.env` is ever changed. Standard library only: no network, no packages.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

ENV_FILE, EXAMPLE_FILE = Path(".env"), Path(".env.example")

#: Settings that get a fresh random value instead of the example's placeholder.
GENERATED_SECRETS: dict[str, Callable[[], str]] = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    # A Fernet key: 32 random bytes, url-safe base64 (what `Fernet.generate_key()` makes).
    "TWO_FACTOR_ENCRYPTION_KEY": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
}

#: A setting's line, set (`NAME=value`) or shown at its default (`# NAME=value`).
SETTING = re.compile(r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=")


def _with_secret(line: str) -> str:
    match = SETTING.match(line)
    if match and not match["commented"] and match["name"] in GENERATED_SECRETS:
        return f"{match['name']}={GENERATED_SECRETS[match['name']]()}"
    return line


def _names(lines: list[str]) -> list[str]:
    return [match["name"] for line in lines if (match := SETTING.match(line))]


def render_env(example: str) -> str:
    """`.env` for a new project: the example, with fresh secrets."""
    return "\n".join(map(_with_secret, example.splitlines())) + "\n"


def missing_settings(example: str, env: str) -> list[str]:
    """The example's lines for the settings `env` names nowhere (set or commented out), each
    with the comment lines just above it, which explain it; secrets generated."""
    known = set(_names(env.splitlines()))
    lines: list[str] = []
    comments: list[str] = []
    for line in example.splitlines():
        match = SETTING.match(line)
        if match is None:
            comments = [*comments, line] if line.startswith("#") else []
            continue
        if match["name"] not in known:
            lines += [*comments, _with_secret(line)]
        comments = []
    return lines


def add_missing_settings(heading: str) -> list[str]:
    """Append the settings `.env` lacks under a comment heading; the names added, in order.
    Without a `.env` (settings come from elsewhere) nothing is written."""
    if not ENV_FILE.exists():
        return []
    env = ENV_FILE.read_text()
    lines = missing_settings(EXAMPLE_FILE.read_text(), env)
    if lines:
        separator = "\n" if env and not env.endswith("\n") else ""
        ENV_FILE.write_text(f"{env}{separator}\n# {heading}\n" + "\n".join(lines) + "\n")
    return _names(lines)


def create() -> None:
    if ENV_FILE.exists():
        print(".env already exists; left as it is.")
        return
    ENV_FILE.write_text(render_env(EXAMPLE_FILE.read_text()))
    ENV_FILE.chmod(0o600)
    print("Wrote .env with freshly generated secrets (git-ignored).")


if __name__ == "__main__":
    if sys.argv[1:] != ["create"]:
        sys.exit("usage: env_file.py create")
    create()
