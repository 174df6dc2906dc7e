"""Smoke tier: a rendered service, run as its README says, serves its accounts end to end."""

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from redis import Redis

from .conftest import BASE_ANSWERS, PACKAGE, Project, Variant, project_env, render, run
from .services import throwaway_database
from .serving import free_port, serving
from .tcp_proxy import TcpProxy

EMAIL, PASSWORD = "admin@example.com", "a long admin password"
API = "/api/v1"


class _Inbox:
    """What an SMTP server on a free port received: the local mail catcher of the README."""

    def __init__(self) -> None:
        self.port = free_port()
        self.texts: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.texts.append(message.get_body(preferencelist=("plain",)).get_content())
        return "250 OK"

    def code(self) -> str:
        """The code of the newest mail that has one, read as a person would; mail goes out
        after the response, so it may take a moment."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for text in reversed(self.texts):
                if match := re.search(r"\b\d{8}\b", text):
                    self.texts.clear()
                    return match.group()
            time.sleep(0.05)
        pytest.fail("no mail with a code arrived")


@contextmanager
def _catching_mail() -> Iterator[_Inbox]:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _a_newcomers_account(client: httpx.Client, inbox: _Inbox) -> None:
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
def _working(project: Project, env: dict[str, str]) -> Iterator[None]:
    """A Celery worker, started as the README says, until it reports itself ready."""
    log = project.path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [
                project.bin("celery"),
                *("-A", f"{PACKAGE}.worker.app", "worker", "--pool=solo"),
                # Celery's plain command, as the README gives it: no --queues.
                "--loglevel=INFO",
            ],
            cwd=project.path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while " ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=10)


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
        _catching_mail() as inbox,
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

        with _working(project, env), _serving(project, env) as client:
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
