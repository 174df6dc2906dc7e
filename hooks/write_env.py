"""Copier task, run once after `copier copy`: write `.env` from `.env.example` with fresh secrets.

`.env` is git-ignored, so the secrets never reach the repository or `.copier-answers.yml`.
An existing `.env` is left alone. Runs with the standard library only: no network, no packages.
"""

import secrets
from pathlib import Path

#: Settings that get a fresh random value instead of the example's placeholder.
GENERATED_SECRETS = ("SECRET_KEY",)


def render_env(example: str) -> str:
    lines = []
    for line in example.splitlines():
        name, separator, _ = line.partition("=")
        if separator and name.strip() in GENERATED_SECRETS:
            line = f"{name}={secrets.token_urlsafe(48)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> None:
    env_file, example_file = Path(".env"), Path(".env.example")
    if env_file.exists():
        print(".env already exists; left as it is.")
        return
    env_file.write_text(render_env(example_file.read_text()))
    env_file.chmod(0o600)
    print("Wrote .env with a freshly generated SECRET_KEY (git-ignored).")


if __name__ == "__main__":
    main()
