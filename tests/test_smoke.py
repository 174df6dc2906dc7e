"""Smoke tier: a rendered service, run as its README says, serves its accounts end to end."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from redis import Redis

from .conftest import BASE_ANSWERS, PACKAGE, Project, Variant, project_env, render, run
from .mail import Inbox, catching_mail
from .services import throwaway_database
from .serving import celery_worker, serving
from .tcp_proxy import TcpProxy

EMAIL, PASSWORD = "admin@example.com", "a long admin password"
API = "/api/v1"


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _a_newcomers_account(client: httpx.Client, inbox: Inbox) -> None:
    """The README's walk-through: register, verify, sign in, refresh, passwords, sign out."""
    ada, first, second, third = (
        "ada@example.com",
        "a long passphrase of mine",
        "another long passphrase",
        "a third long passphrase",
    )
    registered = client.post(f"{API}/auth/register", json={"email": ada, "password": first})
    assert registered.status_code == 202, registered.text
    verified = client.post(f"{API}/auth/verify-email", json={"email": ada, "code": inbox.code()})
    assert verified.status_code == 200, verified.text

    login = client.post(f"{API}/auth/login", data={"username": ada, "password": first}).json()
    refreshed = client.post(f"{API}/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    changed = client.post(
        f"{API}/auth/password/change",
        headers=_bearer(refreshed.json()),
        json={"current_password": first, "new_password": second},
    )
    assert changed.status_code == 200, changed.text
    # The old tokens die with the old password; the new pair works.
    assert client.get(f"{API}/users/me", headers=_bearer(refreshed.json())).status_code == 401
    assert client.get(f"{API}/users/me", headers=_bearer(changed.json())).status_code == 200

    assert client.post(f"{API}/auth/password/forgot", json={"email": ada}).status_code == 202
    reset = client.post(
        f"{API}/auth/password/reset",
        json={"email": ada, "code": inbox.code(), "new_password": third},
    )
    assert reset.status_code == 200, reset.text
    assert client.get(f"{API}/users/me", headers=_bearer(changed.json())).status_code == 401
    session = client.post(f"{API}/auth/login", data={"username": ada, "password": third}).json()
    assert client.post(f"{API}/auth/logout", headers=_bearer(session)).status_code == 204
    assert client.get(f"{API}/users/me", headers=_bearer(session)).status_code == 401


@contextmanager
def _serving(project: Project, env: dict[str, str]) -> Iterator[httpx.Client]:
    """The service as the README starts it, and a client of it."""
    app, log = f"{PACKAGE}.main:app", project.path / "uvicorn.log"
    with (
        serving(project.bin("uvicorn"), app, cwd=project.path, env=env, log=log) as (base, _),
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        yield client


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize(
    ("database", "skip_tasks"),
    [
        pytest.param("postgresql", False, marks=pytest.mark.xdist_group("smoke-postgresql")),
        # Without tasks the README's one step, `cp .env.example .env`, must be enough.
        pytest.param("mysql", True, marks=pytest.mark.xdist_group("smoke-mysql")),
    ],
)
def test_the_service_serves_accounts_end_to_end_and_ready_follows_redis(
    tmp_path: Path, redis_url: str, database: str, skip_tasks: bool
) -> None:
    answers = {**BASE_ANSWERS, "database": database}
    path = render(tmp_path / "service", answers, skip_tasks=skip_tasks)
    if skip_tasks:
        shutil.copy(path / ".env.example", path / ".env")
    project = Project(Variant("smoke", database, True, True, True, "3.12"), path)
    # The worker's own Redis database: rate-limit counters of an earlier run must not carry over.
    with Redis.from_url(redis_url) as worker_redis:
        worker_redis.flushdb()
    redis = urlsplit(redis_url)
    proxy = TcpProxy(redis.hostname or "127.0.0.1", redis.port or 6379).start()

    with (
        throwaway_database(database, f"tpl_smoke_{database}") as database_url,
        catching_mail() as inbox,
    ):
        env = project_env(
            DATABASE_URL=database_url,
            REDIS_URL=f"redis://127.0.0.1:{proxy.port}{redis.path}",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(inbox.port),
        )
        run(project.bin("alembic"), "upgrade", "heads", cwd=path, env=env)
        created = run(
            project.bin("acme-orders"),
            "create-superuser",
            EMAIL,
            "--password-stdin",
            cwd=path,
            env=env,
            input=f"{PASSWORD}\n",
        )
        assert f"Created superuser {EMAIL}." in created.stdout

        worker = celery_worker(
            project.bin("celery"),
            f"{PACKAGE}.worker.app",
            cwd=path,
            env=env,
            log=path / "worker.log",
        )
        with worker, _serving(project, env) as client:
            ready = client.get("/health/ready")
            login = client.post(
                "/api/v1/auth/login", data={"username": EMAIL, "password": PASSWORD}
            )
            token = login.json()["access_token"]
            me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            _a_newcomers_account(client, inbox)
            proxy.cut()
            not_ready = client.get("/health/ready")

    assert ready.status_code == 200, ready.text
    assert login.status_code == 200, login.text
    assert me.status_code == 200, me.text
    assert (me.json()["email"], me.json()["is_superuser"]) == (EMAIL, True)
    assert not_ready.status_code == 503
    # The broker is REDIS_URL, behind the same proxy.
    assert not_ready.json()["error"]["details"] == {
        "database": "ok",
        "redis": "down",
        "broker": "down",
    }
