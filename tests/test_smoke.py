"""Smoke tier: a rendered service, run as its README says, serves a superuser end to end."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import BASE_ANSWERS, PACKAGE, Project, Variant, project_env, render, run
from .services import throwaway_database
from .tcp_proxy import TcpProxy

EMAIL, PASSWORD = "admin@example.com", "a long admin password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(project: Project, env: dict[str, str]) -> Iterator[httpx.Client]:
    port = _free_port()
    server = subprocess.Popen(
        [project.bin("uvicorn"), f"{PACKAGE}.main:app", "--port", str(port)],
        cwd=project.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/health/live")
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"uvicorn did not start:\n{server.communicate()[1]}")
                    time.sleep(0.2)
            yield client
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize(
    ("database", "skip_tasks"),
    [
        pytest.param("postgresql", False, marks=pytest.mark.xdist_group("smoke-postgresql")),
        # Without tasks the README's one step, `cp .env.example .env`, must be enough.
        pytest.param("mysql", True, marks=pytest.mark.xdist_group("smoke-mysql")),
    ],
)
def test_the_service_starts_a_superuser_signs_in_and_ready_follows_redis(
    tmp_path: Path, redis_url: str, database: str, skip_tasks: bool
) -> None:
    answers = {**BASE_ANSWERS, "database": database}
    path = render(tmp_path / "service", answers, skip_tasks=skip_tasks)
    if skip_tasks:
        shutil.copy(path / ".env.example", path / ".env")
    project = Project(Variant("smoke", database, True, True, True, "3.12"), path)
    redis = urlsplit(redis_url)
    proxy = TcpProxy(redis.hostname or "127.0.0.1", redis.port or 6379).start()

    with throwaway_database(database, f"tpl_smoke_{database}") as database_url:
        env = project_env(
            DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{proxy.port}{redis.path}"
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

        with _serving(project, env) as client:
            ready = client.get("/health/ready")
            login = client.post(
                "/api/v1/auth/login", data={"username": EMAIL, "password": PASSWORD}
            )
            token = login.json()["access_token"]
            me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            proxy.cut()
            not_ready = client.get("/health/ready")

    assert ready.status_code == 200, ready.text
    assert login.status_code == 200, login.text
    assert me.status_code == 200, me.text
    assert (me.json()["email"], me.json()["is_superuser"]) == (EMAIL, True)
    assert not_ready.status_code == 503
    assert not_ready.json()["error"]["details"] == {"database": "ok", "redis": "down"}
