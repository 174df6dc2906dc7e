"""Prompt tier: every validator refuses bad input with a message that says what is allowed."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import BASE_ANSWERS, TEMPLATE_ROOT, render


def _copy(copie: Any, **answers: Any) -> Any:
    return copie.copy(extra_answers={**BASE_ANSWERS, **answers}, template_dir=TEMPLATE_ROOT)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_name": "  "}, 'must not be empty; pass one with --data project_name="'),
        ({"project_name": 'Acme "Orders"'}, "must not contain double quotes"),
        ({"project_slug": "Acme Orders"}, "lowercase letters, digits and single dashes"),
        ({"project_slug": "acme--orders"}, "lowercase letters, digits and single dashes"),
        ({"project_slug": "acme-"}, "lowercase letters, digits and single dashes"),
        ({"project_slug": "1acme"}, "start with a letter"),
        ({"package_name": "1acme"}, "must be a Python identifier"),
        ({"package_name": "acme-orders"}, "must be a Python identifier"),
        ({"package_name": "class"}, 'The package name "class" is a Python keyword'),
        ({"package_name": "redis"}, '"redis" would shadow a module the service imports'),
        ({"package_name": "email"}, '"email" would shadow a module the service imports'),
        ({"package_name": "logging"}, '"logging" would shadow a module the service imports'),
        ({"package_name": "celery"}, '"celery" would shadow a module the service imports'),
        ({"description": 'Says "hi"'}, "The description must not contain double quotes"),
        ({"author_name": ""}, "The author name must not be empty."),
        ({"author_email": "not-an-email"}, "must be an address like team@example.com"),
        ({"author_email": "team@localhost"}, "must be an address like team@example.com"),
        ({"author_email": "a b@example.com"}, "must be an address like team@example.com"),
        ({"python_version": "3.11"}, "Invalid choice for 'python_version'"),
        ({"database": "sqlite"}, "Invalid choice for 'database'"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else "",
)
def test_a_bad_answer_is_refused_with_a_clear_message(
    copie: Any, answers: dict[str, Any], message: str
) -> None:
    result = _copy(copie, **answers)

    assert result.exit_code != 0
    assert message in str(result.exception)


def test_choices_name_what_is_allowed(copie: Any) -> None:
    result = _copy(copie, database="sqlite")

    assert "'postgresql'" in str(result.exception)
    assert "'mysql'" in str(result.exception)


@pytest.mark.parametrize("destination", ["orders-api_v2", "."])
def test_every_question_has_a_default_that_works(tmp_path: Path, destination: str) -> None:
    """`copier copy --trust --defaults TEMPLATE DEST` with no answers, as a newcomer types it: the
    name comes from the destination folder, also when that is the current one."""
    folder = tmp_path / "orders-api_v2"
    folder.mkdir()
    copier = Path(sys.executable).with_name("copier")
    command = [copier, "copy", "--trust", "--defaults", "--skip-tasks", "--vcs-ref", "HEAD"]
    subprocess.run(
        [*command, TEMPLATE_ROOT, destination],
        cwd=folder if destination == "." else tmp_path,
        check=True,
        capture_output=True,
    )

    answers = yaml.safe_load((folder / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Orders Api V2"
    assert answers["package_name"] == "orders_api_v2"
    assert answers["author_email"] == "team@example.com"
    assert (folder / "src" / "orders_api_v2" / "main.py").is_file()


def test_slug_and_package_are_derived_from_the_name(copie: Any) -> None:
    result = _copy(copie, project_name="  Acme Orders & Co!")

    assert result.exit_code == 0, result.exception
    assert result.answers["project_slug"] == "acme-orders-co"
    assert result.answers["package_name"] == "acme_orders_co"
    assert (result.project_dir / "src" / "acme_orders_co" / "main.py").is_file()


def test_answers_are_recorded_for_updates_but_secrets_and_derived_values_are_not(
    copie: Any,
) -> None:
    result = _copy(copie)

    recorded = yaml.safe_load((result.project_dir / ".copier-answers.yml").read_text())
    assert recorded["database"] == "postgresql"
    assert {"db_driver", "db_port", "secret_key"}.isdisjoint(recorded)
    assert "SECRET_KEY=change-me" not in (result.project_dir / ".env").read_text()


def test_skipping_tasks_writes_no_env_and_the_example_is_the_documented_start(
    tmp_path: Path,
) -> None:
    project = render(tmp_path / "project", BASE_ANSWERS, skip_tasks=True)

    assert not (project / ".env").exists()
    example = (project / ".env.example").read_text()
    assert "SECRET_KEY=change-me" in example
    assert "DATABASE_URL=postgresql+psycopg://app:app@127.0.0.1:5432/app" in example
