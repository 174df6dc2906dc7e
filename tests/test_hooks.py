"""The scripts Copier runs: `.env` on copy and update, refused answers, features turned off,
what changed."""

import base64
import json
import subprocess
from pathlib import Path

import pytest
from after_update import changes_between, remove_emptied_packages
from env_file import add_missing_settings, missing_settings, render_env
from features_off import main as features_off
from fixed_answers import main as fixed_answers
from follow_moves import MOVES, follow
from packaging.version import Version

from .releases import TEMPLATE_ROOT, recorded_releases
from .test_update import MOVED_FILE_EDITS

EXAMPLE = """# Settings.
ENVIRONMENT=local
# At least 32 random characters in production.
SECRET_KEY=change-me
# DB_POOL_SIZE=20

# Background work.
# CELERY_BROKER_URL=
"""


def test_a_new_env_gets_a_fresh_secret_and_keeps_everything_else() -> None:
    first, second = render_env(EXAMPLE), render_env(EXAMPLE)
    secret = next(line for line in first.splitlines() if line.startswith("SECRET_KEY="))

    assert first != second
    assert len(secret.removeprefix("SECRET_KEY=")) >= 32
    assert first.replace(secret, "SECRET_KEY=change-me") == EXAMPLE


def test_missing_settings_come_with_their_comments_and_known_ones_stay_out() -> None:
    env = "ENVIRONMENT=production\n# DB_POOL_SIZE=5\n"

    lines = missing_settings(EXAMPLE, env)

    assert lines[0] == "# At least 32 random characters in production."
    assert lines[1].startswith("SECRET_KEY=")
    assert lines[1] != "SECRET_KEY=change-me"
    assert lines[2:] == ["# Background work.", "# CELERY_BROKER_URL="]


def test_an_update_appends_what_env_lacks_and_changes_nothing_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".env.example").write_text(EXAMPLE)
    ours = "ENVIRONMENT=production\nSECRET_KEY=ours\n# DB_POOL_SIZE=20\nOUR_OWN=1"
    Path(".env").write_text(ours)

    added = add_missing_settings("Added by an update")
    again = add_missing_settings("Added by an update")

    env = Path(".env").read_text()
    assert added == ["CELERY_BROKER_URL"]
    assert again == []
    assert env == ours + "\n\n# Added by an update\n# Background work.\n# CELERY_BROKER_URL=\n"


FEATURE_EXAMPLE = (
    EXAMPLE
    + """
# Two-factor sign-in: its own encryption key.
TWO_FACTOR_ENCRYPTION_KEY=Y2hhbmdlLW1lLWNoYW5nZS1tZS1jaGFuZ2UtbWUtISE=
# TWO_FACTOR_PREVIOUS_KEYS=
"""
)


def _fernet_key(line: str) -> bytes:
    """The key a `NAME=value` line sets, checked as Fernet reads one: 32 bytes, url-safe base64."""
    key = base64.urlsafe_b64decode(line.partition("=")[2].encode())
    assert len(key) == 32
    return key


def test_turning_two_factor_on_by_an_update_appends_a_fresh_encryption_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text(render_env(EXAMPLE))
    Path(".env.example").write_text(FEATURE_EXAMPLE)

    added = add_missing_settings("Added by an update")

    env = Path(".env").read_text().splitlines()
    [key_line] = [line for line in env if line.startswith("TWO_FACTOR_ENCRYPTION_KEY=")]
    assert added == ["TWO_FACTOR_ENCRYPTION_KEY", "TWO_FACTOR_PREVIOUS_KEYS"]
    assert key_line != "TWO_FACTOR_ENCRYPTION_KEY=Y2hhbmdlLW1lLWNoYW5nZS1tZS1jaGFuZ2UtbWUtISE="
    _fernet_key(key_line)
    assert "# TWO_FACTOR_PREVIOUS_KEYS=" in env


def test_each_new_project_gets_its_own_encryption_key() -> None:
    keys = {
        _fernet_key(line)
        for _ in range(2)
        for line in render_env(FEATURE_EXAMPLE).splitlines()
        if line.startswith("TWO_FACTOR_ENCRYPTION_KEY=")
    }

    assert len(keys) == 2


def test_without_an_env_file_an_update_writes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".env.example").write_text(EXAMPLE)

    assert add_missing_settings("Added by an update") == []
    assert not Path(".env").exists()


CHANGELOG = """# Changelog

## [Unreleased]
- Next.

## [0.3.0] - 2027-02-01
- Third.

## [0.2.0] - 2027-01-01
- Second.

## [0.1.0] - 2026-11-28
- First.
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("0.1.0", "0.3.0", ["0.3.0", "0.2.0"]),
        ("0.2.0", "0.2.0", []),
        ("0.2.0", "0.3.0.post2.dev0+abc1234", ["Unreleased", "0.3.0"]),
        ("0.3.0.post2.dev0+abc1234", "0.3.0.post2.dev0+abc1234", []),
    ],
)
def test_the_changes_shown_are_those_after_the_projects_release(
    old: str, new: str, expected: list[str]
) -> None:
    sections = changes_between(CHANGELOG, Version(old), Version(new))

    assert [section.split("]")[0].removeprefix("## [") for section in sections] == expected
    assert all(section.count("## [") == 1 for section in sections)


def test_an_empty_unreleased_section_is_not_shown() -> None:
    changelog = CHANGELOG.replace("- Next.\n", "")

    shown = changes_between(changelog, Version("0.2.0"), Version("0.3.0.post1.dev0+abc1234"))

    assert [section.split("]")[0].removeprefix("## [") for section in shown] == ["0.3.0"]


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed project rendered for PostgreSQL, as Copier finds it before an update."""
    (tmp_path / ".copier-answers.yml").write_text(
        "_commit: 0.1.0\ndatabase: postgresql\npackage_name: acme_orders\n"
    )
    (tmp_path / "README.md").write_text("ours\n")
    _git("init", "--quiet", cwd=tmp_path)
    _git("add", "--all", cwd=tmp_path)
    _git("commit", "--quiet", "-m", "start", cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("answers", "refused"),
    [
        ({"database": "mysql"}, "Cannot change database from postgresql to mysql."),
        ({"package_name": "orders"}, "Cannot change package_name from acme_orders to orders."),
    ],
)
def test_an_answer_an_update_cannot_change_is_refused_with_the_way_out(
    project: Path, capsys: pytest.CaptureFixture[str], answers: dict[str, str], refused: str
) -> None:
    assert fixed_answers(".copier-answers.yml", json.dumps(answers)) == 1

    error = capsys.readouterr().err
    assert refused in error
    assert "Keep " in error


def test_answers_that_may_change_pass(project: Path) -> None:
    answers = {"database": "postgresql", "package_name": "acme_orders", "celery": True}

    assert fixed_answers(".copier-answers.yml", json.dumps(answers)) == 0


def test_a_refusal_after_the_update_puts_the_project_back(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What an update with another database at the prompt leaves behind.
    (project / "README.md").write_text("rendered for MySQL\n")
    (project / "src").mkdir()
    (project / "src" / "new.py").write_text("")

    refused = fixed_answers(".copier-answers.yml", '{"database": "mysql"}', "--undo")

    assert refused == 1
    assert (project / "README.md").read_text() == "ours\n"
    assert not (project / "src").exists()
    assert _git("status", "--porcelain", cwd=project) == ""
    assert "The update was undone" in capsys.readouterr().err


@pytest.fixture
def featured_project(project: Path) -> Path:
    """The project with two-factor and teams on, teams' migration branch in it, committed."""
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text() + "celery: true\nteams: true\ntwo_factor: false\n")
    branch = project / "migrations" / "versions" / "teams"
    branch.mkdir(parents=True)
    (branch / "0001_create_teams.py").write_text(
        'def upgrade() -> None:\n    op.create_table(\n        "teams",\n    )\n'
        '    op.create_table("team_memberships")\n'
    )
    _git("add", "--all", cwd=project)
    _git("commit", "--quiet", "-m", "teams", cwd=project)
    return project


def test_turning_a_feature_with_tables_off_names_them_and_the_downgrade_first(
    featured_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    features_off(".copier-answers.yml", json.dumps({"teams": "false"}))

    said = capsys.readouterr().out
    assert "Turning teams off removes its code" in said
    assert "(teams, team_memberships)" in said
    assert "`uv run alembic downgrade teams@base`" in said


@pytest.mark.parametrize(
    "answers",
    [
        {"teams": "true"},  # left on
        {"teams": True},
        {"celery": "false"},  # no tables
        {"two_factor": "false"},  # already off
        {"database": "postgresql"},
    ],
)
def test_no_warning_where_no_tables_go(
    featured_project: Path, capsys: pytest.CaptureFixture[str], answers: dict[str, object]
) -> None:
    features_off(".copier-answers.yml", json.dumps(answers))

    assert capsys.readouterr().out == ""


def test_every_moved_file_has_a_team_edit_in_the_update_tier() -> None:
    assert {move["old"] for move in MOVES} == set(MOVED_FILE_EDITS)


@pytest.fixture
def moved_project(project: Path) -> Path:
    """A project at 0.1.0 that the update just moved `core/pagination.py` out of."""
    release = str(next(iter(recorded_releases().values())))
    old = project / "src" / "acme_orders" / "core" / "pagination.py"
    old.parent.mkdir(parents=True)
    shipped = _git(
        "show",
        f"{release}:template/src/{{{{ package_name }}}}/core/pagination.py",
        cwd=TEMPLATE_ROOT,
    )
    old.write_text(shipped)
    _git("add", "--all", cwd=project)
    _git("commit", "--quiet", "-m", "at 0.1.0", cwd=project)
    new = project / "src" / "acme_orders" / "admin" / "pagination.py"
    new.parent.mkdir(parents=True)
    new.write_text(shipped.replace("MAX_PAGE_SIZE = 100", "MAX_PAGE_SIZE = 100  # the release's"))
    old.unlink()
    return project


MOVE = ("src/{package}/core/pagination.py", "src/{package}/admin/pagination.py")


def test_a_teams_edit_of_a_moved_file_follows_it(moved_project: Path) -> None:
    release = str(next(iter(recorded_releases().values())))
    old = moved_project / "src" / "acme_orders" / "core" / "pagination.py"
    edited = _git("show", "HEAD:src/acme_orders/core/pagination.py", cwd=moved_project)
    old.write_text(edited.replace('"""Offset pagination', '"""Our pagination'))
    _git("commit", "--quiet", "-am", "our edit", cwd=moved_project)
    old.unlink()

    said = follow(release, "acme_orders", *MOVE)

    new = (moved_project / "src" / "acme_orders" / "admin" / "pagination.py").read_text()
    assert said is not None
    assert "your changes to it are there now" in said
    assert new.startswith('"""Our pagination')
    assert "MAX_PAGE_SIZE = 100  # the release's" in new


def test_an_unedited_moved_file_needs_nothing(moved_project: Path) -> None:
    release = str(next(iter(recorded_releases().values())))
    new = moved_project / "src" / "acme_orders" / "admin" / "pagination.py"
    before = new.read_text()

    assert follow(release, "acme_orders", *MOVE) is None
    assert new.read_text() == before


def test_an_update_removes_the_packages_it_emptied_and_only_those(tmp_path: Path) -> None:
    """git leaves a package whose files an update deleted behind for its bytecode caches."""
    for cache in (
        "src/pkg/worker/__pycache__",  # emptied by turning Celery off
        "tests/worker/nested/__pycache__",  # and its tests, a level deeper
        "src/pkg/users/__pycache__",  # kept: the package still has its files
        "src/pkg/empty_on_purpose",  # kept: no cache in it, nothing the update did
    ):
        (tmp_path / cache).mkdir(parents=True)
    (tmp_path / "src/pkg/worker/__pycache__/app.cpython-313.pyc").write_bytes(b"")
    (tmp_path / "tests/worker/__pycache__").mkdir()
    (tmp_path / "src/pkg/users/models.py").write_text("")
    (tmp_path / "src/pkg/__init__.py").write_text("")

    removed = remove_emptied_packages(tmp_path)

    assert removed == [tmp_path / "src/pkg/worker", tmp_path / "tests/worker"]
    assert not (tmp_path / "src/pkg/worker").exists()
    assert not (tmp_path / "tests/worker").exists()
    assert (tmp_path / "src/pkg/users/__pycache__").is_dir()
    assert (tmp_path / "src/pkg/empty_on_purpose").is_dir()
