"""The processes of a rendered service, run for the tiers that talk to it: uvicorn on a free
port (the smoke, hostile and replicas tiers, and the benchmark's floors too) and a Celery
worker."""

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

#: How long uvicorn may take to import the app and run its startup.
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    ready: Callable[[], bool],
    what: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` running until the block ends, once `ready()` says it is. Its output goes to
    `log`, which the error shows when it does not start; a pipe would fill up and stall it."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"{what} did not start:\n{log.read_text()}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def serving(
    uvicorn: Path,
    app: str,
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    options: Sequence[str] = (),
) -> Iterator[tuple[str, int]]:
    """uvicorn serving `app` until the block ends: its base URL and pid, once it accepts
    connections (uvicorn listens after the app's startup)."""
    port = free_port()
    command = [uvicorn, app, "--port", str(port), *options]
    ready = partial(_accepts, port)
    with running(command, cwd=cwd, env=env, log=log, ready=ready, what=f"uvicorn {app}") as server:
        yield f"http://127.0.0.1:{port}", server.pid


@contextmanager
def celery_worker(
    celery: Path, app: str, *, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[int]:
    """A Celery worker started as a rendered service's README says, until the block ends: its
    pid, once it reports itself ready."""
    # Celery's plain command, as the README gives it: no --queues.
    command = [celery, "-A", app, "worker", "--pool=solo", "--loglevel=INFO"]

    def ready() -> bool:
        return " ready." in log.read_text()

    with running(command, cwd=cwd, env=env, log=log, ready=ready, what="the worker") as worker:
        yield worker.pid
