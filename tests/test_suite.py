"""Suite tier: every variant's migrations and own test suite, on the real engine it targets.

The variants of the update tier are left to it: it runs the same checks and suite, with the
same coverage gate, on the same render with a team's edits (and an old database migrated).
"""

import pytest

from .conftest import (
    COVERAGE_GATE,
    Projects,
    Variant,
    project_env,
    run,
    variant_params,
    variants_updated_into,
)
from .services import throwaway_database


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize("variant", variant_params(excluding=variants_updated_into()))
def test_migrations_match_the_models_and_the_suite_passes(
    projects: Projects, variant: Variant, redis_url: str
) -> None:
    project = projects.get(variant)
    alembic = project.bin("alembic")
    name = f"tpl_test_{variant.id.replace('-', '_')}"

    with throwaway_database(variant.database, name) as database_url:
        env = project_env(DATABASE_URL=database_url)
        run(alembic, "upgrade", "heads", cwd=project.path, env=env)
        check = run(alembic, "check", cwd=project.path, env=env)
        # As the README runs it: `make cov` is `uv run pytest --cov`.
        suite = run(
            "make",
            "cov",
            f"ARGS=-q -p no:cacheprovider --cov-fail-under={COVERAGE_GATE}",
            cwd=project.path,
            env=project_env(
                TEST_DATABASE_URL=database_url,
                TEST_REDIS_URL=redis_url,
            ),
        )

    assert "No new upgrade operations detected" in check.stdout + check.stderr
    assert " passed" in suite.stdout
    assert " failed" not in suite.stdout
    assert f"Required test coverage of {COVERAGE_GATE}" in suite.stdout
