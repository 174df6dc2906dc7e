"""Shared fixtures: variants as data, one rendered project and virtualenv per variant."""

import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import pytest

from .services import REDIS_URL, check_services

TEMPLATE_ROOT = Path(__file__).parent.parent
VARIANTS_FILE = Path(__file__).parent / "variants.json"
FEATURES = ("celery", "two_factor", "teams")
#: What a service carries for its operators; none has tables, each is a library and a setting.
OBSERVABILITY = ("metrics", "error_reporting", "tracing")

#: The answers every rendered variant shares; the variant adds its own.
BASE_ANSWERS = {"project_name": "Acme Orders", "author_email": "team@example.com"}
PACKAGE = "acme_orders"


@dataclass(frozen=True)
class Variant:
    id: str
    database: str
    celery: bool
    two_factor: bool
    teams: bool
    python_version: str
    metrics: bool = False
    error_reporting: bool = False
    tracing: bool = False

    @property
    def answers(self) -> dict[str, Any]:
        return {
            **BASE_ANSWERS,
            "database": self.database,
            "celery": self.celery,
            "two_factor": self.two_factor,
            "teams": self.teams,
            "metrics": self.metrics,
            "error_reporting": self.error_reporting,
            "tracing": self.tracing,
            "python_version": self.python_version,
        }


VARIANTS = [Variant(**row) for row in json.loads(VARIANTS_FILE.read_text())]


#: Every rate limit of the all-on variant, by its setting's name after `RATE_LIMIT_`.
RATE_LIMITS = (
    "LOGIN_PER_IP",
    "LOGIN_PER_EMAIL",
    "REGISTER_PER_IP",
    "PASSWORD_FORGOT_PER_EMAIL",
    "VERIFICATION_RESEND_PER_EMAIL",
    "CODE_PER_IP",
    "TWO_FACTOR_PER_CHALLENGE",
    "TWO_FACTOR_CODES_PER_ACCOUNT",
    "TWO_FACTOR_SETUP_PER_ACCOUNT",
    "INVITATIONS_PER_USER",
)


def wide_open_limits(*, keeping: Iterable[str] = ()) -> dict[str, str]:
    """Settings that open every rate limit but those `keeping` names, for tiers whose requests
    must reach the handlers, not a 429."""
    kept = set(keeping)
    return {f"RATE_LIMIT_{limit}": "100000/minute" for limit in RATE_LIMITS if limit not in kept}


#: The coverage a variant's own suite must reach, in the suite and update tiers.
COVERAGE_GATE = 90

#: The update tier's scenarios: a variant generated at a release, and the answers each update
#: then changes (an empty list only moves to the template under test). The newest release runs
#: every step with the full proof; each older one runs the first step and must arrive at the
#: same tree (`test_update.py`).
UPDATE_SCENARIOS = {
    # The defaults on PostgreSQL with all three of observability turned on; then two-factor
    # turned off (its branch downgraded on the live rows) and on again.
    "pg-celery-2fa-teams": [
        ["metrics=true", "error_reporting=true", "tracing=true"],
        ["two_factor=false"],
        ["two_factor=true"],
    ],
    # Two-factor and teams turned on by the update, on live rows, on MySQL; then teams off and
    # on again (the backfill gives every account its personal team once more).
    "my-celery-no-2fa-no-teams": [
        ["two_factor=true", "teams=true"],
        ["teams=false"],
        ["teams=true"],
    ],
    # Everything off on PostgreSQL: two-factor and teams on, then Celery on with observability
    # (its worker instrumented on a live project), and both off again.
    "pg-no-celery-no-2fa-no-teams": [
        ["two_factor=true", "teams=true"],
        ["celery=true", "metrics=true", "error_reporting=true", "tracing=true"],
        ["celery=false", "metrics=false", "error_reporting=false", "tracing=false"],
    ],
}


def _variant_with(variant: Variant, answers: Iterable[str]) -> Variant:
    """The variant a project of `variant` becomes when an update changes these answers."""
    changed = {name: value == "true" for name, value in (answer.split("=") for answer in answers)}
    features = {
        feature: changed.get(feature, getattr(variant, feature))
        for feature in (*FEATURES, *OBSERVABILITY)
    }
    return next(
        other
        for other in VARIANTS
        if other.database == variant.database
        and all(getattr(other, feature) == on for feature, on in features.items())
    )


def variants_updated_into() -> set[str]:
    """The variants the update tier's scenarios become: the tier runs their suites."""
    variants = {variant.id: variant for variant in VARIANTS}
    reached = set()
    for variant_id, updates in UPDATE_SCENARIOS.items():
        variant = variants[variant_id]
        for answers in updates:
            variant = _variant_with(variant, answers)
            reached.add(variant.id)
    return reached


def variant_params(*, excluding: Iterable[str] = ()) -> list[Any]:
    """One param per variant, grouped so that xdist runs a variant's tests on one worker."""
    return [
        pytest.param(variant, id=variant.id, marks=pytest.mark.xdist_group(variant.id))
        for variant in VARIANTS
        if variant.id not in excluding
    ]


def render(destination: Path, answers: dict[str, Any], *, skip_tasks: bool = False) -> Path:
    """Copy the template's working tree (uncommitted changes included), as `copier copy` does."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        destination,
        data=answers,
        defaults=True,
        unsafe=True,
        skip_tasks=skip_tasks,
        vcs_ref="HEAD",
        quiet=True,
    )
    return destination


#: What a disabled feature must leave no trace of, in any path or file of the project.
FEATURE_TRACES = {
    "celery": re.compile(r"celery|flower", re.IGNORECASE),
    "two_factor": re.compile(r"two[_-]factor|2fa|totp|pyotp|segno|backup[_ ]codes?", re.IGNORECASE),
    "teams": re.compile(r"\bteams\b|team_id|invitation", re.IGNORECASE),
    "metrics": re.compile(r"prometheus|metrics", re.IGNORECASE),
    "error_reporting": re.compile(r"sentry", re.IGNORECASE),
    "tracing": re.compile(r"opentelemetry|\botel|otlp|trace_id|span_id", re.IGNORECASE),
}
#: Files that may name a disabled feature: Copier's record of the answers names every toggle,
#: on or off, by design; the lock file's hashes may hold any string of hex digits ("2fa"); the
#: list of common passwords is data, where "flower" is not Flower.
TRACES_ALLOWED = {".copier-answers.yml", "uv.lock", f"src/{PACKAGE}/users/common_passwords.txt"}


def feature_traces(root: Path, paths: Iterable[Path], disabled: Iterable[str]) -> list[str]:
    """Each path (relative to `root`) whose name or content mentions a disabled feature."""
    disabled = list(disabled)
    return [
        f"{path}: {feature}"
        for path in paths
        if path.as_posix() not in TRACES_ALLOWED
        for feature in disabled
        if FEATURE_TRACES[feature].search(path.as_posix())
        or FEATURE_TRACES[feature].search((root / path).read_text(errors="replace"))
    ]


def run(
    *command: str | Path, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its output when it exits non-zero."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(map(str, command))}` exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result


def project_env(**overrides: str) -> dict[str, str]:
    """The environment for commands run inside a rendered project, outside our own venv.

    Its processes keep their compiled modules, as on any developer's machine: where the
    environment says not to (PYTHONDONTWRITEBYTECODE, as these CI machines do), every Python
    process would compile the whole stack again, seconds each.
    """
    dropped = {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(overrides)
    return env


@dataclass
class Project:
    """A rendered variant and, once asked for, its virtualenv with dev dependencies."""

    variant: Variant
    path: Path
    _synced: bool = field(default=False)

    def bin(self, tool: str) -> Path:
        if not self._synced:
            run(
                "uv",
                "sync",
                "--python",
                self.variant.python_version,
                cwd=self.path,
                env=project_env(),
            )
            self._synced = True
        return self.path / ".venv" / "bin" / tool


class Projects:
    """Each worker renders a variant once and shares it between that variant's tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._projects: dict[str, Project] = {}

    def get(self, variant: Variant) -> Project:
        if variant.id not in self._projects:
            path = render(self.root / variant.id, variant.answers)
            self._projects[variant.id] = Project(variant, path)
        return self._projects[variant.id]


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Projects:
    return Projects(tmp_path_factory.mktemp("variants"))


@pytest.fixture(scope="session", autouse=True)
def shared_mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One mypy cache per worker for every project it checks: the variants share most modules
    (their dependencies' above all), and mypy re-checks a module whose file differs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYPY_CACHE_DIR", str(tmp_path_factory.mktemp("mypy-cache")))
        yield


@pytest.fixture(scope="session")
def services() -> None:
    """Stops the run with one line when a service the suites need is down."""
    problem = check_services()
    if problem:
        pytest.exit(problem, returncode=3)


@pytest.fixture(scope="session")
def redis_url(worker_id: str) -> str:
    """A Redis database per xdist worker: a worker runs one suite at a time, so the suites it
    runs may flush it, while suites on other workers use databases of their own."""
    index = int(worker_id.removeprefix("gw")) + 1 if worker_id.startswith("gw") else 0
    return f"{REDIS_URL}/{index % 16}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest groups first, so that no worker is left with a long one at the end: the
    update tier (most updates first, then its convergence tests), then the variants' suites,
    then the rest."""

    def weight(item: pytest.Item) -> tuple[int, int]:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "updates" in callspec.params:
            return 0, -len(callspec.params["updates"])
        if callspec is not None and "copier_version" in callspec.params:
            return 0, 0  # an update tier's convergence test: about as long as a suite
        return (1 if item.nodeid.startswith("tests/test_suite.py") else 2), 0

    items.sort(key=weight)
