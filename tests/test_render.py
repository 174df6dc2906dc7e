"""Render tier: every variant renders clean, lints, type-checks and imports; no services."""

import base64
import re
from pathlib import Path

import pytest
import yaml

from .conftest import (
    FEATURES,
    OBSERVABILITY,
    PACKAGE,
    Projects,
    Variant,
    feature_traces,
    project_env,
    run,
    variant_params,
)
from .services import SERVICE_DRIVERS

#: A Jinja expression or statement, or a template suffix; Python's `{{` in dicts does not count.
JINJA_LEFTOVERS = re.compile(r"\{\{-? *[A-Za-z_(]|\{%|%\}|\{#|\.jinja\b")
#: The service's own email templates: Jinja that the service renders at run time.
EMAIL_TEMPLATES = Path("src", PACKAGE, "emails")
#: Copier's record of the answers.
ANSWERS_FILE = ".copier-answers.yml"


def _files(root: Path) -> list[Path]:
    # Tool output, not rendered files: the suite tier's coverage data, and the lock file that
    # `uv sync` writes, whose hashes may hold any string of hex digits ("2fa", say).
    skipped = {
        *(".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"),
        *(".coverage", "uv.lock"),
    }
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not skipped.intersection(path.relative_to(root).parts)
    ]


pytestmark = pytest.mark.parametrize("variant", variant_params())


def test_no_jinja_is_left_in_any_path_or_file(projects: Projects, variant: Variant) -> None:
    project = projects.get(variant)
    leftovers = [
        str(path.relative_to(project.path))
        for path in _files(project.path)
        if JINJA_LEFTOVERS.search(str(path.relative_to(project.path)))
        or (
            not path.relative_to(project.path).is_relative_to(EMAIL_TEMPLATES)
            and JINJA_LEFTOVERS.search(path.read_text(errors="replace"))
        )
    ]

    assert leftovers == []
    assert len(list((project.path / EMAIL_TEMPLATES).glob("*.html"))) >= 5


def test_a_disabled_feature_leaves_nothing_behind(projects: Projects, variant: Variant) -> None:
    project = projects.get(variant)
    disabled = [feature for feature in (*FEATURES, *OBSERVABILITY) if not getattr(variant, feature)]
    paths = [path.relative_to(project.path) for path in _files(project.path)]

    assert feature_traces(project.path, paths, disabled) == []


def test_the_env_file_has_a_fresh_secret_and_is_ignored(
    projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    env = (project.path / ".env").read_text()
    [secret] = re.findall(r"^SECRET_KEY=(.*)$", env, re.MULTILINE)

    assert len(secret) >= 32
    assert secret != "change-me"
    assert secret not in (project.path / ANSWERS_FILE).read_text()
    assert ".env" in (project.path / ".gitignore").read_text().splitlines()
    keys = re.findall(r"^TWO_FACTOR_ENCRYPTION_KEY=(.*)$", env, re.MULTILINE)
    if variant.two_factor:
        [key] = keys
        assert len(base64.urlsafe_b64decode(key)) == 32  # a Fernet key
        assert key not in (project.path / ".env.example").read_text()
    else:
        assert keys == []


def test_make_lint_runs_ruff_the_format_strict_mypy_and_the_layers(
    projects: Projects, variant: Variant
) -> None:
    """The checks CI runs, through the task runner the README gives: both are proved at once."""
    project = projects.get(variant)
    project.bin("ruff")  # the virtualenv, synced with the variant's Python before `uv run`

    result = run("make", "lint", cwd=project.path, env=project_env())

    assert "All checks passed!" in result.stdout  # ruff check
    assert "already formatted" in result.stdout  # ruff format --check
    assert "Success: no issues found" in result.stdout  # mypy
    assert "0 broken" in result.stdout  # lint-imports: core never imports a feature


def test_make_help_lists_every_job_and_each_runs_a_command(
    projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    makefile = (project.path / "Makefile").read_text()
    [phony] = re.findall(r"^\.PHONY: (.*)$", makefile, re.MULTILINE)

    listed = run("make", "help", cwd=project.path).stdout
    jobs = re.findall(r"^  make (\S+) ", listed, re.MULTILINE)

    assert jobs == phony.split()
    assert {"setup", "test", "lint", "run", "migrate"} <= set(jobs)
    assert ("worker" in jobs) == variant.celery
    for job in jobs:
        assert run("make", "-n", job, cwd=project.path).stdout.strip(), job


def test_every_module_imports(projects: Projects, variant: Variant) -> None:
    project = projects.get(variant)
    script = (
        f"import importlib, pkgutil, {PACKAGE}\n"
        f"names = [m.name for m in pkgutil.walk_packages({PACKAGE}.__path__, '{PACKAGE}.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names))"
    )

    result = run(project.bin("python"), "-c", script, cwd=project.path)

    assert int(result.stdout) >= 20


def test_env_example_and_readme_name_every_setting(projects: Projects, variant: Variant) -> None:
    project = projects.get(variant)
    script = (
        f"from {PACKAGE}.core.config import Settings\n"
        "print(' '.join(name.upper() for name in Settings.model_fields))"
    )
    settings = run(project.bin("python"), "-c", script, cwd=project.path).stdout.split()
    readme = (project.path / "README.md").read_text()

    assert [name for name in settings if f"`{name}`" not in readme] == []
    example = (project.path / ".env.example").read_text()
    # Set, or commented out at its default: `# NAME=value`.
    assert [name for name in settings if not re.search(f"^(# )?{name}=", example, re.M)] == []
    assert len(settings) >= 30


def test_compose_file_is_sound(projects: Projects, variant: Variant) -> None:
    project = projects.get(variant)
    compose = yaml.safe_load((project.path / "compose.yaml").read_text())
    services = compose["services"]

    background = {"worker", "beat", "flower"} if variant.celery else set()
    assert set(services) == {"api", "migrate", "db", "redis", "mailpit", *background}
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}
        if name != "migrate":
            assert service["healthcheck"]["test"], f"{name} has no health check"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
    expected_image = "postgres:" if variant.database == "postgresql" else "mysql:"
    assert services["db"]["image"].startswith(expected_image)
    driver = SERVICE_DRIVERS[variant.database]
    assert services["api"]["environment"]["DATABASE_URL"].startswith(f"{driver}://")
    assert services["migrate"]["command"] == ["alembic", "upgrade", "heads"]
    if variant.metrics and variant.celery:
        # The prefork pool's counts reach the scrape only through a directory of their own.
        worker = services["worker"]["environment"]
        assert worker["PROMETHEUS_MULTIPROC_DIR"]
        assert worker["METRICS_PORT"] == services["api"]["environment"]["METRICS_PORT"]


def test_dockerfile_is_multi_stage_non_root_with_a_health_check(
    projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    instructions = [
        line.split(maxsplit=1)
        for line in (project.path / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#") and line[0].isalpha()
    ]
    stages = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    final_stage = instructions[
        max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :
    ]
    final = dict(final_stage)

    assert len(stages) >= 2
    assert all(f"python:{variant.python_version}-" in stage for stage in stages)
    assert final["USER"] not in {"root", "0"}
    assert "HEALTHCHECK" in final
    assert f"{PACKAGE}.main:app" in final["CMD"]
    copied = [
        source
        for keyword, arguments in instructions
        if keyword == "COPY" and "--from=" not in arguments
        for source in arguments.split()[:-1]
        if not source.startswith("--")
    ]
    # The image builds from the lock file, which the user's first `uv sync` writes (so it may
    # not exist yet); everything else the Dockerfile copies ships with the project.
    assert "uv.lock" in copied
    missing = [source for source in copied if not (project.path / source).exists()]
    assert set(missing) <= {"uv.lock"}
