"""What observability costs: the service with each report on, beside the same service with all
off, and beside one that carries none of them, in one run.

    uv run python -m bench.observability [--database postgresql|mysql] [--seconds 5] [--rounds 3]

It renders the default variant twice, once with the `metrics`, `error_reporting` and `tracing`
answers on and once with them off, and serves five services side by side, one uvicorn worker
each: the one that carries none, the one that carries all three with none switched on, and that
one again with each switched on by its setting alone. Error reports and traces go to a sink
on the floors' server (`bench/floors.py`), which reads and drops them. In each round wrk drives
`/health/live` and `GET /users/me` (signed in) of every service in turn, and the service's own
CPU time is read around each load; each figure is compared with the all-off service's in the
same round. docs/performance.md records a run.
"""

import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import BASE_ANSWERS, OBSERVABILITY, render
from tests.serving import free_port

from .run import (
    BENCH,
    CONNECTIONS,
    PACKAGE,
    Load,
    arguments,
    cpu_seconds,
    install,
    ratios,
    served,
    sign_in,
    sync,
    wrk,
)

#: Beside the all-off service: each report switched on by its own setting (`sink` is the URL
#: of the floors' sink).
SWITCHED_ON = {
    "metrics on": lambda sink: {"METRICS_PORT": str(free_port())},
    "error reports on": lambda sink: {
        "SENTRY_DSN": f"http://bench@{sink.removeprefix('http://')}/1"
    },
    "traces on": lambda sink: {"OTEL_EXPORTER_OTLP_ENDPOINT": sink},
    # The README's way to keep one trace in ten: the other nine make no spans worth the name.
    "traces on, 1 in 10": lambda sink: {
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    },
}
#: Between two services' loads: the seconds a service's batched reports take to leave, so that
#: they are not counted against the next one.
SETTLE_SECONDS = 2
ALL_OFF, NOT_CARRIED = "all off", "none carried"


def main() -> None:
    args = arguments(__doc__)

    with tempfile.TemporaryDirectory() as scratch:
        answers = {**BASE_ANSWERS, "database": args.database}
        carrying = render(
            Path(scratch) / "carrying", {**answers, **dict.fromkeys(OBSERVABILITY, True)}
        )
        plain = render(Path(scratch) / "plain", answers)
        with install(carrying, args.database) as env:
            sync(plain)
            rows = measure(carrying, plain, env, args.seconds, args.rounds)
    print_table(rows, args.database, args.rounds)


@dataclass(frozen=True)
class Measured:
    """One load on one service: what wrk saw, and the CPU time the service spent on each
    request (its threads' included; the sink's not), which a busy neighbour disturbs far less
    than the throughput."""

    load: Load
    cpu_ms: float


def measure(
    carrying: Path, plain: Path, env: dict[str, str], seconds: int, rounds: int
) -> dict[str, list[Measured]]:
    app = f"{PACKAGE}.main:app"
    # Six services, each holding its pool open, within PostgreSQL's default 100 connections.
    env = {**env, "DB_POOL_SIZE": "10", "DB_MAX_OVERFLOW": "5"}
    with ExitStack() as stack:
        floors, _ = stack.enter_context(served(carrying, "floors:app", env, BENCH))
        sink = f"{floors}/sink"
        services = {
            NOT_CARRIED: stack.enter_context(served(plain, app, env, plain / "src", name="plain")),
            ALL_OFF: stack.enter_context(served(carrying, app, env, carrying / "src", name="off")),
        }
        for mode, switch in SWITCHED_ON.items():
            on = {**env, **switch(sink)}
            name = "-".join(mode.replace(",", "").split())
            services[mode] = stack.enter_context(
                served(carrying, app, on, carrying / "src", name=name)
            )
        return _rounds(list(services.items()), seconds, rounds)


def _rounds(
    services: list[tuple[str, tuple[str, int]]], seconds: int, rounds: int
) -> dict[str, list[Measured]]:
    rows: dict[str, list[Measured]] = {}
    for round_ in range(rounds):
        # Each round starts with another service: no one always follows the same neighbour.
        shift = round_ % len(services)
        for mode, (base, pid) in services[shift:] + services[:shift]:
            time.sleep(SETTLE_SECONDS)
            auth = ["-H", f"Authorization: Bearer {sign_in(base)}"]
            for load, url, extra in (
                ("live", f"{base}/health/live", []),
                ("me", f"{base}/api/v1/users/me", auth),
            ):
                used = cpu_seconds(pid)
                figures = wrk(url, seconds, CONNECTIONS, *extra)
                used = cpu_seconds(pid) - used
                rows.setdefault(f"{mode}: {load}", []).append(
                    Measured(figures, 1000 * used / max(figures.requests, 1))
                )
    return rows


def print_table(rows: dict[str, list[Measured]], database: str, rounds: int) -> None:
    print(
        f"\nObservability's cost ({database}, {CONNECTIONS} connections, one worker each); "
        f"req/s and the service's CPU ms per request as medians of {rounds} rounds, ratios to "
        "the all-off service as median (range):\n"
    )
    print(
        "| service | `/health/live` req/s | ratio | CPU ms | ratio "
        "| `/users/me` req/s | ratio | CPU ms | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mode in (NOT_CARRIED, ALL_OFF, *SWITCHED_ON):
        cells = []
        for load in ("live", "me"):
            measured = rows[f"{mode}: {load}"]
            row, base = f"{mode}: {load}", f"{ALL_OFF}: {load}"
            cells += [
                f"{statistics.median(m.load.requests_per_second for m in measured):,.0f}",
                ratios(rows, row, base, _rate),
                f"{statistics.median(m.cpu_ms for m in measured):.3f}",
                ratios(rows, row, base, _cpu_ms),
            ]
        print(f"| {mode} | " + " | ".join(cells) + " |")


def _rate(measured: Measured) -> float:
    return measured.load.requests_per_second


def _cpu_ms(measured: Measured) -> float:
    return measured.cpu_ms


if __name__ == "__main__":
    main()
