"""What observability costs: the service with each report on, beside the same service with all
off, and beside one that carries none of them, in one run.

    uv run python -m bench.observability [--database postgresql|mysql] [--seconds 5] [--rounds 3]

It renders the default variant twice, once with the `metrics`, `error_reporting` and `tracing`
answers on and once with them off, and serves five services side by side, one uvicorn worker
each: the one that carries none, the one that carries all three with none switched on, and that
one again with each switched on by its setting alone. Error reports and traces go to a sink
on the floors' server (`bench/floors.py`), which reads and drops them. In each round wrk drives
`/health/live` and `GET /users/me` (signed in) of every service in turn; each figure is compared
with the all-off service's in the same round. docs/performance.md records a run.
"""

import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from tests.conftest import BASE_ANSWERS, OBSERVABILITY, render
from tests.serving import free_port

from .run import BENCH, CONNECTIONS, PACKAGE, Load, arguments, install, served, sign_in, sync, wrk

#: Beside the all-off service: each report switched on by its own setting (`sink` is the URL
#: of the floors' sink).
SWITCHED_ON = {
    "metrics on": lambda sink: {"METRICS_PORT": str(free_port())},
    "error reports on": lambda sink: {
        "SENTRY_DSN": f"http://bench@{sink.removeprefix('http://')}/1"
    },
    "traces on": lambda sink: {"OTEL_EXPORTER_OTLP_ENDPOINT": sink},
}
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


def measure(
    carrying: Path, plain: Path, env: dict[str, str], seconds: int, rounds: int
) -> dict[str, list[Load]]:
    rows: dict[str, list[Load]] = {}
    app = f"{PACKAGE}.main:app"
    with ExitStack() as stack:
        floors, _ = stack.enter_context(served(carrying, "floors:app", env, BENCH))
        sink = f"{floors}/sink"
        services = {
            NOT_CARRIED: stack.enter_context(served(plain, app, env, plain / "src", name="plain"))[
                0
            ],
            ALL_OFF: stack.enter_context(served(carrying, app, env, carrying / "src", name="off"))[
                0
            ],
        }
        for mode, switch in SWITCHED_ON.items():
            on = {**env, **switch(sink)}
            name = mode.split()[0]
            services[mode] = stack.enter_context(
                served(carrying, app, on, carrying / "src", name=name)
            )[0]
        for _ in range(rounds):
            for mode, base in services.items():
                auth = ["-H", f"Authorization: Bearer {sign_in(base)}"]
                rows.setdefault(f"{mode}: live", []).append(
                    wrk(f"{base}/health/live", seconds, CONNECTIONS)
                )
                rows.setdefault(f"{mode}: me", []).append(
                    wrk(f"{base}/api/v1/users/me", seconds, CONNECTIONS, *auth)
                )
    return rows


def _ratio(rows: dict[str, list[Load]], mode: str, load: str, base: str) -> str:
    ratios = sorted(
        a.requests_per_second / b.requests_per_second
        for a, b in zip(rows[f"{mode}: {load}"], rows[f"{base}: {load}"], strict=True)
    )
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def print_table(rows: dict[str, list[Load]], database: str, rounds: int) -> None:
    print(
        f"\nObservability's cost ({database}, {CONNECTIONS} connections, one worker each); "
        f"req/s as medians of {rounds} rounds, ratios to the all-off service as median (range):\n"
    )
    print("| service | `/health/live` req/s | ratio | `/users/me` req/s | ratio |")
    print("|---|---|---|---|---|")
    for mode in (NOT_CARRIED, ALL_OFF, *SWITCHED_ON):
        live = statistics.median(load.requests_per_second for load in rows[f"{mode}: live"])
        me = statistics.median(load.requests_per_second for load in rows[f"{mode}: me"])
        print(
            f"| {mode} | {live:,.0f} | {_ratio(rows, mode, 'live', ALL_OFF)} "
            f"| {me:,.0f} | {_ratio(rows, mode, 'me', ALL_OFF)} |"
        )


if __name__ == "__main__":
    main()
