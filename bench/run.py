"""The benchmark: the rendered service against its floors, side by side in one run.

    uv run python -m bench.run [--database postgresql|mysql] [--seconds 10]

It renders the default variant (every toggle on) for the database, installs it with uv,
migrates a database of its own on this machine's server, makes one account with the service's
CLI, then starts the service and the floors (`bench/floors.py`) with uvicorn, one worker each,
and drives them with wrk (Debian's `wrk` package; the command says how to install it when it is
missing). It prints one table: requests per second, p50 and p99 for each load, and each figure
as a ratio to its floor, which is what to compare between machines and runs: these machines are
shared, and absolute figures move with everything else running. Nothing here is a test; no
figure is asserted anywhere. docs/performance.md records a run.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        p50_ms=_ms(percentile["50"]),
        p99_ms=_ms(percentile["99"]),
        refused=int(refused[1]) if refused else 0,
        timeouts=int(timeouts[1]) if timeouts else 0,
    )


def rss_kib(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the peak) of a process, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M)[1])


@contextmanager
def served(
    project: Path, app: str, env: dict[str, str], app_dir: Path
) -> Iterator[tuple[str, int]]:
    """uvicorn with one worker, quiet; what it logs goes to `<project>/<app>.log`."""
    log = project / f"{app.partition(':')[0]}.log"
    options = ["--no-access-log", "--app-dir", str(app_dir), "--log-level", "warning"]
    with serving(
        project / ".venv/bin/uvicorn", app, cwd=project, env=env, log=log, options=options
    ) as (base, pid):
        yield base, pid


def sign_in(project: Path, base: str) -> str:
    script = (
        "import httpx, sys\n"
        f"r = httpx.post(sys.argv[1] + '/api/v1/auth/login', data={{'username': {EMAIL!r}, "
        f"'password': {PASSWORD!r}}})\n"
        "print(r.json()['access_token'])"
    )
    return subprocess.run(
        [project / ".venv/bin/python", "-c", script, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def import_ms(project: Path, statement: str) -> float:
    """The median wall time of a fresh interpreter running `statement`."""
    python = project / ".venv/bin/python"
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([python, "-c", statement], cwd=project, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("postgresql", "mysql"), default="postgresql")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: `sudo apt-get install wrk` (Debian, Ubuntu) installs it.")
    seconds = args.seconds

    with tempfile.TemporaryDirectory() as scratch:
        answers = {**BASE_ANSWERS, "database": args.database}
        project = render(Path(scratch) / "service", answers)
        # Compiled at install, as the Dockerfile does: the import time is production's.
        subprocess.run(
            ["uv", "sync", "--quiet", "--no-dev", "--compile-bytecode"],
            cwd=project,
            env=project_env(),
            check=True,
        )
        # httpx signs the benchmark in; the service itself does not need it.
        subprocess.run(
            ["uv", "pip", "install", "--quiet", "httpx"], cwd=project, env=project_env(), check=True
        )
        with throwaway_database(args.database, "bench_service") as database_url:
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
            rows = measure(project, env, seconds)
    print_table(rows, args.database)


def measure(project: Path, env: dict[str, str], seconds: int) -> dict[str, object]:
    rows: dict[str, object] = {}
    with served(project, "floors:app", env, BENCH) as (floors, _):
        rows["bare"] = wrk(f"{floors}/bare", seconds, CONNECTIONS)
        rows["select_1"] = wrk(f"{floors}/select-1", seconds, CONNECTIONS)
    hash_floor = subprocess.run(
        [project / ".venv/bin/python", "-c", HASH_FLOOR, str(seconds)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows["hash_floor"] = float(hash_floor)
    with served(project, f"{PACKAGE}.main:app", env, project / "src") as (service, pid):
        token = sign_in(project, service)
        rows["idle_rss"] = rss_kib(pid, "VmRSS")
        auth = ["-H", f"Authorization: Bearer {token}"]
        rows["live"] = wrk(f"{service}/health/live", seconds, CONNECTIONS)
        rows["me"] = wrk(f"{service}/api/v1/users/me", seconds, CONNECTIONS, *auth)
        login_script = Path(env.get("TMPDIR", "/tmp")) / f"bench-login-{os.getpid()}.lua"
        login_script.write_text(LOGIN_SCRIPT)
        try:
            login = ["-s", str(login_script)]
            rows["login"] = wrk(f"{service}/api/v1/auth/login", seconds, CONNECTIONS, *login)
            storm = subprocess.Popen(
                [
                    "wrk",
                    "-t",
                    "1",
                    "-c",
                    str(CONNECTIONS),
                    "-d",
                    f"{seconds + 2}s",
                    *login,
                    f"{service}/api/v1/auth/login",
                ],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1)
            rows["live_in_storm"] = wrk(f"{service}/health/live", seconds, 8)
            storm.wait()
        finally:
            login_script.unlink()
        rows["burst"] = wrk(f"{service}/api/v1/users/me", seconds, BURST, *auth)
        rows["peak_rss"] = rss_kib(pid, "VmHWM")
    rows["import_app"] = import_ms(project, f"import {PACKAGE}.main")
    rows["interpreter"] = import_ms(project, "pass")
    return rows


def print_table(rows: dict, database: str) -> None:
    bare, select_1 = rows["bare"], rows["select_1"]

    def line(name: str, load: Load, floor: str, ratio: str) -> None:
        print(
            f"| {name} | {load.requests_per_second:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} "
            f"| {load.refused} | {floor} | {ratio} |"
        )

    print(
        f"\nThe service (every toggle on, {database}) and its floors, {CONNECTIONS} connections:\n"
    )
    print("| load | req/s | p50 ms | p99 ms | non-2xx | compared with | ratio |")
    print("|---|---|---|---|---|---|---|")
    line("floor: bare async endpoint", bare, "", "")
    line("floor: `SELECT 1` through the pool", select_1, "", "")
    line(
        "`/health/live`",
        rows["live"],
        "bare: req/s; p99",
        f"{rows['live'].requests_per_second / bare.requests_per_second:.2f}x; "
        f"{rows['live'].p99_ms / bare.p99_ms:.1f}x",
    )
    line(
        "`GET /users/me` (signed in)",
        rows["me"],
        "`SELECT 1`: req/s",
        f"{rows['me'].requests_per_second / select_1.requests_per_second:.2f}x",
    )
    line(
        "login",
        rows["login"],
        f"Argon2id floor: {rows['hash_floor']:.0f} verifies/s",
        f"{rows['login'].requests_per_second / rows['hash_floor']:.2f}x",
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
        "answered p99",
        f"{rows['burst'].p99_ms / 1000:.2f} s, {rows['burst'].timeouts} timeouts",
    )
    print(
        f"\nImport of the app: {rows['import_app']:.0f} ms (an empty interpreter: "
        f"{rows['interpreter']:.0f} ms). RSS: {rows['idle_rss'] / 1024:.0f} MiB idle, "
        f"{rows['peak_rss'] / 1024:.0f} MiB at the peak."
    )


if __name__ == "__main__":
    main()
