"""Hostile tier: schemathesis against the all-on variant's OpenAPI document, on each engine,
signed in as a superuser: no server error, no status the document does not declare, no body,
header or content type unlike the document's.

The service runs under uvicorn from the suite tier's project and virtualenv (schemathesis runs
here, in the template's own environment: it is no dependency of the generated service), on a
free port, against a throwaway database and the worker's Redis database, with rate limits wide
enough that generated requests reach the handlers. Each operation gets a fixed, derandomized
number of examples, valid and invalid, so that the tier's time is bounded and its runs repeat.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from redis import Redis
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import PACKAGE, VARIANTS, Projects, Variant, project_env, run, wide_open_limits
from .services import throwaway_database
from .serving import free_port, serving

#: Examples per operation and generation mode: about a minute per engine on two cores.
EXAMPLES = int(os.environ.get("TEMPLATE_HOSTILE_EXAMPLES", "12"))
#: Throwaway databases are named with this prefix (another run on the machine may use another).
DATABASE_PREFIX = os.environ.get("TEMPLATE_TEST_DATABASE_PREFIX", "tpl_")
HOSTILE_VARIANTS = ("pg-celery-2fa-teams", "my-celery-2fa-teams")

EMAIL, PASSWORD = "fuzz-admin@example.com", "a long fuzzing passphrase"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Operations that end the signed-in session whatever they are sent: after one of them every
#: other operation would only meet 401s. The suites test them; here they would blind the tier.
SESSION_ENDING = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout-all")}


def _fuzz(case_strategy: Any, call: Callable[[Case], None]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=case_strategy)
    def fuzz(case: Case) -> None:
        call(case)

    fuzz()


def _signed_in(base_url: str) -> dict[str, str]:
    login = httpx.post(
        f"{base_url}/api/v1/auth/login", data={"username": EMAIL, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def _failures(base_url: str) -> tuple[list[str], dict[str, set[int]]]:
    """What each operation's examples broke, one entry per failing operation and mode; and the
    statuses each operation answered."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = _signed_in(base_url)
    failures = []
    answered: dict[str, set[int]] = {}
    with requests.Session() as session:

        def call(case: Case) -> None:
            response = case.call_and_validate(
                base_url=base_url, session=session, headers=headers, checks=CHECKS, timeout=30
            )
            answered.setdefault(case.operation.label, set()).add(response.status_code)

        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SESSION_ENDING:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode)
                try:
                    _fuzz(strategy, call)
                except Unsatisfiable:
                    pass  # nothing to send invalid: an operation without parameters or body
                except Exception as failure:  # each operation's failure is kept, not only the first
                    failures.append(f"{operation.label} ({mode}):\n{failure}"[:3000])
    return failures, answered


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(variant, id=variant.id, marks=pytest.mark.xdist_group(variant.id))
        for variant in VARIANTS
        if variant.id in HOSTILE_VARIANTS
    ],
)
def test_generated_requests_meet_only_documented_answers(
    projects: Projects, variant: Variant, redis_url: str, tmp_path: Path
) -> None:
    project = projects.get(variant)
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    name = f"{DATABASE_PREFIX}hostile_{variant.id.replace('-', '_')}"
    with throwaway_database(variant.database, name) as database_url:
        env = project_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            # Mail has nowhere to go: the port is closed, and sending fails after the answer.
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(free_port()),
            LOG_LEVEL="WARNING",
            **wide_open_limits(),
        )
        run(project.bin("alembic"), "upgrade", "heads", cwd=project.path, env=env)
        run(
            project.bin("acme-orders"),
            *("create-superuser", EMAIL, "--password-stdin"),
            cwd=project.path,
            env=env,
            input=f"{PASSWORD}\n",
        )
        log = tmp_path / "uvicorn.log"
        app, options = f"{PACKAGE}.main:app", ["--no-access-log"]
        with serving(
            project.bin("uvicorn"), app, cwd=project.path, env=env, log=log, options=options
        ) as (base_url, _):
            failures, answered = _failures(base_url)

    assert not failures, "\n\n".join(failures) + f"\n\nserver log:\n{log.read_text()[-3000:]}"
    # The requests went in signed in, and reached the handlers: the tier cannot pass blind.
    assert 200 in answered["GET /api/v1/users/me"], answered
    assert 201 in answered["POST /api/v1/teams"], answered
