"""A rendered service (or the benchmark's floors) served by uvicorn on a free port, for the
tiers that talk to it over HTTP: the smoke test, the hostile tier and the benchmark."""

import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

#: How long uvicorn may take to import the app and run its startup.
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    connections (uvicorn listens after the app's startup). Its output goes to `log`, which the
    error shows when it does not start; a pipe would fill up and stall the server."""
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [uvicorn, app, "--port", str(port), *options],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    msg = f"uvicorn did not start {app}:\n{log.read_text()}"
                    raise RuntimeError(msg) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def celery_worker(
    celery: Path, app: str, *, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[int]:
    """A Celery worker started as a rendered service's README says, until the block ends: its
    pid, once it reports itself ready. Its output goes to `log`."""
    with log.open("w") as output:
        worker = subprocess.Popen(
            # Celery's plain command, as the README gives it: no --queues.
            [celery, "-A", app, "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while " ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                msg = f"the worker did not start:\n{log.read_text()}"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield worker.pid
    finally:
        worker.terminate()
        worker.wait(timeout=10)
