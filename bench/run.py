"""The benchmark: the rendered service against its floors, side by side in one run.

    uv run python -m bench.run [--database postgresql|mysql] [--seconds 5] [--rounds 3]

It renders the default variant (every toggle on) for the database, installs it with uv,
migrates a database of its own on this machine's server, makes one account with the service's
CLI, then starts the service and the floors (`bench/floors.py`) with uvicorn, one worker each,
and drives them with wrk (Debian's `wrk` package; the command says how to install it when it is
missing). It prints one table: requests per second, p50 and p99 for each load, and each figure
as a ratio to its floor, which is what to compare between machines and runs: these machines are
shared, and absolute figures move with everything else running. So each figure is measured
right after its floor, in rounds, and the table gives the median ratio and its range. Nothing
here is a test; no figure is asserted anywhere. docs/performance.md records a run.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import BASE_ANSWERS, PACKAGE, project_env, render
from tests.services import REDIS_URL, throwaway_database
from tests.serving import serving

BENCH = Path(__file__).parent
EMAIL, PASSWORD = "bench@example.com", "a long benchmark passphrase"
#: Every limit out of the way: the benchmark measures the work, not the refusals.
UNLIMITED = "1000000/minute"
CONNECTIONS = 64
BURST = 256

HASH_FLOOR = f"""
import asyncio, sys, time
from {PACKAGE}.core.passwords import hash_password, verify_password

async def main(seconds):
    stored = await hash_password({PASSWORD!r})
    stop, done = time.perf_counter() + seconds, 0

    async def verify_until_stop():
        nonlocal done
        while time.perf_counter() < stop:
            await verify_password({PASSWORD!r}, stored)
            done += 1

    await asyncio.gather(*(verify_until_stop() for _ in range({CONNECTIONS})))
    print(done / seconds)

asyncio.run(main(float(sys.argv[1])))
"""
LOGIN_SCRIPT = f"""
wrk.method = "POST"
wrk.body = "username={EMAIL.replace("@", "%40")}&password={PASSWORD.replace(" ", "+")}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


@dataclass
class Load:
    """What wrk measured of one load."""

    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    refused: int  # answers other than 2xx/3xx (the 503s of a burst)
    timeouts: int


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def wrk(url: str, seconds: int, connections: int, *extra: str) -> Load:
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    percentile = dict(re.findall(r"^\s+(50|99)\.?0*%\s+(\S+)\s*$", output, re.M))
    if len(percentile) != 2:
        sys.exit(f"wrk answered no latencies for {url}:\n{output}")
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"timeout (\d+)", output)
    return Load(
        requests=int(re.search(r"(\d+) requests in", output)[1]),
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        p50_ms=_ms(percentile["50"]),
        p99_ms=_ms(percentile["99"]),
        refused=int(refused[1]) if refused else 0,
        timeouts=int(timeouts[1]) if timeouts else 0,
    )


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far, its threads' included (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of a process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M)[1])


@contextmanager
def served(
    project: Path, app: str, env: dict[str, str], app_dir: Path, *, name: str = ""
) -> Iterator[tuple[str, int]]:
    """uvicorn with one worker, quiet; what it logs goes to `<project>/<name or app>.log`."""
    log = project / f"{name or app.partition(':')[0]}.log"
    options = ["--no-access-log", "--app-dir", str(app_dir), "--log-level", "warning"]
    with serving(
        project / ".venv/bin/uvicorn", app, cwd=project, env=env, log=log, options=options
    ) as (base, pid):
        yield base, pid


def sign_in(base: str) -> str:
    login = {"username": EMAIL, "password": PASSWORD}
    response = httpx.post(f"{base}/api/v1/auth/login", data=login, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def import_ms(project: Path, statement: str) -> float:
    """The median wall time of a fresh interpreter running `statement`."""
    python = project / ".venv/bin/python"
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([python, "-c", statement], cwd=project, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def arguments(doc: str) -> argparse.Namespace:
    """A benchmark's command line (the first line of its `doc` as the help), once wrk is there."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "mysql"), default="postgresql")
    parser.add_argument("--seconds", type=int, default=5, help="per load and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `sudo apt-get install wrk` (Debian, Ubuntu) installs it.")
    return args


def main() -> None:
    args = arguments(__doc__)
    seconds = args.seconds

    with tempfile.TemporaryDirectory() as scratch:
        answers = {**BASE_ANSWERS, "database": args.database}
        project = render(Path(scratch) / "service", answers)
        with install(project, args.database) as env:
            rows = measure(project, env, seconds, args.rounds)
    print_table(rows, args.database, args.rounds)


def sync(project: Path) -> None:
    """The service's dependencies, compiled at install as the Dockerfile does: the import time
    is production's."""
    subprocess.run(
        ["uv", "sync", "--quiet", "--no-dev", "--compile-bytecode"],
        cwd=project,
        env=project_env(),
        check=True,
    )


@contextmanager
def install(project: Path, database: str) -> Iterator[dict[str, str]]:
    """The service installed, a database of its own migrated, one account made with its CLI:
    the environment to serve it with, until the block ends."""
    sync(project)
    with throwaway_database(database, "bench_service") as database_url:
        env = project_env(
            BENCH_PACKAGE=PACKAGE,
            DATABASE_URL=database_url,
            REDIS_URL=f"{REDIS_URL}/9",
            SMTP_PORT="1",
            LOG_LEVEL="WARNING",
            RATE_LIMIT_LOGIN_PER_IP=UNLIMITED,
            RATE_LIMIT_LOGIN_PER_EMAIL=UNLIMITED,
        )
        run = {"cwd": project, "env": env, "check": True, "capture_output": True}
        subprocess.run([project / ".venv/bin/alembic", "upgrade", "heads"], **run)
        subprocess.run(
            [
                project / ".venv/bin" / PACKAGE.replace("_", "-"),
                "create-superuser",
                EMAIL,
                "--password-stdin",
            ],
            input=f"{PASSWORD}\n",
            text=True,
            **run,
        )
        yield env


#: The loads measured beside their floors, round after round, each next to its own.
PAIRS = (("live", "bare"), ("me", "select_1"), ("login", "hash_floor"))


def hash_floor(project: Path, env: dict[str, str], seconds: int) -> float:
    """Argon2id checks per second through the service's own bounded hashing pool."""
    output = subprocess.run(
        [project / ".venv/bin/python", "-c", HASH_FLOOR, str(seconds)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output)


def measure(project: Path, env: dict[str, str], seconds: int, rounds: int) -> dict[str, Any]:
    """Every figure; those of `PAIRS` once per round, each right after its floor: the machine's
    speed drifts from minute to minute, and neighbours drift least."""
    rows: dict[str, Any] = {key: [] for pair in PAIRS for key in pair}
    login_script = Path(tempfile.gettempdir()) / f"bench-login-{os.getpid()}.lua"
    login_script.write_text(LOGIN_SCRIPT)
    login = ["-s", str(login_script), "--timeout", "10s"]
    try:
        with (
            served(project, "floors:app", env, BENCH) as (floors, _),
            served(project, f"{PACKAGE}.main:app", env, project / "src") as (service, pid),
        ):
            rows["idle_rss"] = rss_kib(pid, "VmRSS")
            login_url = f"{service}/api/v1/auth/login"
            for _ in range(rounds):
                # Signed in each round: a run outlasts an access token.
                auth = ["-H", f"Authorization: Bearer {sign_in(service)}"]
                rows["bare"].append(wrk(f"{floors}/bare", seconds, CONNECTIONS))
                rows["live"].append(wrk(f"{service}/health/live", seconds, CONNECTIONS))
                rows["select_1"].append(wrk(f"{floors}/select-1", seconds, CONNECTIONS))
                rows["me"].append(wrk(f"{service}/api/v1/users/me", seconds, CONNECTIONS, *auth))
                rows["hash_floor"].append(hash_floor(project, env, seconds))
                rows["login"].append(wrk(login_url, seconds, CONNECTIONS, *login))
            storm_load = ["-c", str(CONNECTIONS), "-d", f"{seconds + 2}s", *login, login_url]
            storm = subprocess.Popen(["wrk", "-t", "1", *storm_load], stdout=subprocess.DEVNULL)
            time.sleep(1)
            rows["live_in_storm"] = wrk(f"{service}/health/live", seconds, 8)
            storm.wait()
            rows["burst"] = wrk(f"{service}/api/v1/users/me", seconds, BURST, *auth)
            rows["peak_rss"] = rss_kib(pid, "VmHWM")
    finally:
        login_script.unlink()
    rows["import_app"] = import_ms(project, f"import {PACKAGE}.main")
    rows["interpreter"] = import_ms(project, "pass")
    return rows


def _rate(figure: Load | float) -> float:
    return figure.requests_per_second if isinstance(figure, Load) else figure


def ratios(rows: dict[str, Any], load: str, floor: str, of: Callable[[Any], float]) -> str:
    """The median of the rounds' ratios, and their range."""
    ratios = sorted(of(a) / of(b) for a, b in zip(rows[load], rows[floor], strict=True))
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def _median_load(loads: list[Load]) -> Load:
    """Each figure's median over the rounds."""
    return Load(
        requests=sum(load.requests for load in loads),
        requests_per_second=statistics.median(load.requests_per_second for load in loads),
        p50_ms=statistics.median(load.p50_ms for load in loads),
        p99_ms=statistics.median(load.p99_ms for load in loads),
        refused=sum(load.refused for load in loads),
        timeouts=sum(load.timeouts for load in loads),
    )


def print_table(rows: dict[str, Any], database: str, rounds: int) -> None:
    def line(name: str, load: Load, floor: str, ratio: str) -> None:
        print(
            f"| {name} | {load.requests_per_second:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} "
            f"| {load.refused} | {floor} | {ratio} |"
        )

    def p99(load: Load) -> float:
        return load.p99_ms

    print(
        f"\nThe service (every toggle on, {database}) and its floors, {CONNECTIONS} connections; "
        f"medians of {rounds} rounds, ratios as median (range):\n"
    )
    print("| load | req/s | p50 ms | p99 ms | non-2xx | compared with | ratio |")
    print("|---|---|---|---|---|---|---|")
    bare = _median_load(rows["bare"])
    line("floor: bare async endpoint", bare, "", "")
    line("floor: `SELECT 1` through the pool", _median_load(rows["select_1"]), "", "")
    line(
        "`/health/live`",
        _median_load(rows["live"]),
        "bare: req/s; p99",
        f"{ratios(rows, 'live', 'bare', _rate)}; {ratios(rows, 'live', 'bare', p99)}",
    )
    line(
        "`GET /users/me` (signed in)",
        _median_load(rows["me"]),
        "`SELECT 1`: req/s",
        ratios(rows, "me", "select_1", _rate),
    )
    line(
        "login",
        _median_load(rows["login"]),
        f"Argon2id floor: {statistics.median(rows['hash_floor']):.0f} verifies/s",
        ratios(rows, "login", "hash_floor", _rate),
    )
    line(
        "`/health/live` during a login storm (8 conn.)",
        rows["live_in_storm"],
        "bare: p99",
        f"{rows['live_in_storm'].p99_ms / bare.p99_ms:.1f}x",
    )
    line(
        f"burst: `/users/me` at {BURST} connections",
        rows["burst"],
        "p99 of all answers",
        f"{rows['burst'].p99_ms / 1000:.2f} s, {rows['burst'].timeouts} timeouts",
    )
    print(
        f"\nImport of the app: {rows['import_app']:.0f} ms (an empty interpreter: "
        f"{rows['interpreter']:.0f} ms). RSS: {rows['idle_rss'] / 1024:.0f} MiB idle, "
        f"{rows['peak_rss'] / 1024:.0f} MiB at the peak."
    )


if __name__ == "__main__":
    main()
