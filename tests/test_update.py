"""Update tier: a service generated at a release, holding live rows and a team's own edits, is
updated to the template under test with `copier update`, as its README says. Every edit and every
row survives, and the updated project passes its own checks, migrations and suite; a feature
turned off, then on, through an update does the same.

The newest release gets that whole proof. Each older release, and the oldest Copier the template
supports, prove that they converge: the same answers and edits, updated the same way, give the
tree the newest release gave, and their database migrates with its rows. So no suite runs twice
for the same tree, and a new release adds a convergence test per scenario, not a suite.
"""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import copier
import pytest
import yaml
from after_update import changes_between
from features_off import MIGRATIONS, feature_tables
from follow_moves import MOVES
from packaging.version import Version
from redis import Redis

from .conftest import (
    COVERAGE_GATE,
    FEATURES,
    OBSERVABILITY,
    PACKAGE,
    TEMPLATE_ROOT,
    UPDATE_SCENARIOS,
    VARIANTS,
    Variant,
    feature_traces,
    project_env,
    run,
)
from .releases import last_releases, tagged_clone
from .services import table_rows, throwaway_database

#: The newest Copier, the one the template's own environment pins; and the oldest it supports.
COPIER = Path(sys.executable).parent / "copier"
NEWEST_COPIER = copier.__version__
OLDEST_COPIER = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_min_copier_version"]
#: People with accounts in the live database: superusers made with the service's CLI.
PEOPLE = [(f"person{n}@example.com", f"the long passphrase of person {n}") for n in range(3)]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Orders team",
    "GIT_AUTHOR_EMAIL": "orders@example.com",
    "GIT_COMMITTER_NAME": "Orders team",
    "GIT_COMMITTER_EMAIL": "orders@example.com",
}
CONFLICT_MARKER = re.compile(r"^(<{7}|>{7}) ", re.M)

#: Run in the service's own virtualenv: every person signs in over HTTP (refresh tokens, audit
#: rows), and refreshes the token it was given before. Prints the status codes and new tokens.
SIGN_IN_SCRIPT = f"""
import asyncio, json, sys
from httpx import ASGITransport, AsyncClient
from {PACKAGE}.main import create_app

async def main(people):
    app = create_app()
    transport = ASGITransport(app=app)
    async with app.router.lifespan_context(app), AsyncClient(
        transport=transport, base_url="http://service"
    ) as client:
        for person in people:
            login = await client.post(
                "/api/v1/auth/login",
                data={{"username": person["email"], "password": person["password"]}},
            )
            person["login"] = login.status_code
            token = person.get("refresh_token") or login.json()["refresh_token"]
            refresh = await client.post("/api/v1/auth/refresh", json={{"refresh_token": token}})
            person["refresh"] = refresh.status_code
            person["refresh_token"] = refresh.json().get("refresh_token")
    print(json.dumps(people))

asyncio.run(main(json.loads(sys.argv[1])))
"""


#: Run in the service's own virtualenv once an update brought the features in. With teams, each
#: person lists their teams and reads /users/me: the teams migration gave every live account a
#: personal team, its current one. With two-factor sign-in, the first person turns it on as an
#: authenticator app would (pyotp), then signs in with the password and the app's next code.
FEATURES_SCRIPT = f"""
import asyncio, json, sys, time
from httpx import ASGITransport, AsyncClient
from {PACKAGE}.main import create_app

async def main(people, features):
    app = create_app()
    found = {{}}
    async with app.router.lifespan_context(app), AsyncClient(
        transport=ASGITransport(app=app), base_url="http://service"
    ) as client:
        async def sign_in(person):
            login = await client.post(
                "/api/v1/auth/login",
                data={{"username": person["email"], "password": person["password"]}},
            )
            return login.json()

        if "teams" in features:
            for person in people:
                auth = {{"Authorization": "Bearer " + (await sign_in(person))["access_token"]}}
                teams = (await client.get("/api/v1/teams", headers=auth)).json()
                me = (await client.get("/api/v1/users/me", headers=auth)).json()
                found[person["email"]] = [
                    (team["personal"], team["role"], team["id"] == me["current_team_id"])
                    for team in teams
                ]
        if "two_factor" in features:
            import pyotp

            person = people[0]
            auth = {{"Authorization": "Bearer " + (await sign_in(person))["access_token"]}}
            setup = await client.post(
                "/api/v1/auth/2fa/setup", json={{"password": person["password"]}}, headers=auth
            )
            app_codes = pyotp.TOTP(setup.json()["secret"])
            enable = await client.post(
                "/api/v1/auth/2fa/enable", json={{"code": app_codes.now()}}, headers=auth
            )
            challenge = await sign_in(person)
            verify = await client.post(
                "/api/v1/auth/2fa/verify",
                json={{
                    "mfa_token": challenge.get("mfa_token"),
                    "code": app_codes.at(time.time() + 30),
                }},
            )
            found["two_factor"] = [
                setup.status_code,
                len(enable.json().get("backup_codes", [])),
                challenge.get("mfa_required"),
                verify.status_code,
                "refresh_token" in verify.json(),
            ]
    print(json.dumps(found))

asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2:]))
"""


@dataclass
class Service:
    """A service generated from the tagged clone, in a git repository, with its own databases."""

    variant: Variant
    path: Path
    copier: Path = COPIER
    database_url: str = ""
    test_database_url: str = ""

    def env(self, **extra: str) -> dict[str, str]:
        return project_env(**GIT_IDENTITY, **extra)

    def service_env(self, redis_url: str) -> dict[str, str]:
        # The scripts sign in from one client address (ASGITransport's), up to eleven times
        # within a minute at the last steps: the per-client limit is not what this tier tests.
        return self.env(
            DATABASE_URL=self.database_url,
            REDIS_URL=redis_url,
            SMTP_PORT="1",
            RATE_LIMIT_LOGIN_PER_IP="100/minute",
        )

    def bin(self, tool: str) -> Path:
        return self.path / ".venv" / "bin" / tool

    def sh(self, *command: str | Path, **env: str) -> str:
        return run(*command, cwd=self.path, env=self.env(**env)).stdout

    def commit(self, message: str) -> None:
        self.sh("git", "add", "--all")
        self.sh("git", "commit", "--quiet", "--no-verify", "-m", message)

    def sync(self) -> None:
        self.sh("uv", "sync", "--python", self.variant.python_version)

    def update(self, *data: str) -> str:
        """`copier update` as the README gives it, to the template under test."""
        return self.sh(
            self.copier,
            "update",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            *(f"--data={answer}" for answer in data),
        )

    def migrate(self) -> None:
        """The live database up to the new heads; the models and the migrations agree."""
        alembic, live = self.bin("alembic"), {"DATABASE_URL": self.database_url}
        self.sh(alembic, "upgrade", "heads", **live)
        assert "No new upgrade operations detected" in self.sh(alembic, "check", **live)

    def tree(self) -> dict[str, str]:
        """Every file of the project as git would commit it (path: mode and blob), the answers
        and the lock file aside: the answers name the release, and uv may resolve anew."""
        self.sh("git", "add", "--all")
        entries = self.sh(
            "git", "ls-files", "--stage", "--", ".", ":!uv.lock", ":!.copier-answers.yml"
        )
        return {
            path: mode_and_blob.rsplit(" ", 1)[0]
            for mode_and_blob, path in (line.split("\t", 1) for line in entries.splitlines())
        }

    def changes_since(self, commit: str) -> list[str]:
        """The paths that differ from `commit`, lock file aside (uv may resolve anew)."""
        self.sh("git", "add", "--all")
        names = self.sh("git", "diff", "--cached", "--name-only", commit, "--", ".", ":!uv.lock")
        return names.splitlines()

    def sign_in_everyone(self, redis_url: str, people: list[dict[str, object]]) -> list[dict]:
        result = run(
            self.bin("python"),
            "-c",
            SIGN_IN_SCRIPT,
            json.dumps(people),
            cwd=self.path,
            env=self.service_env(redis_url),
        )
        return json.loads(result.stdout.splitlines()[-1])

    def use_the_features(self, redis_url: str, people: list[dict[str, object]]) -> dict:
        """What FEATURES_SCRIPT found, for the features the project's answers turned on."""
        answers = yaml.safe_load((self.path / ".copier-answers.yml").read_text())
        features = [feature for feature in ("teams", "two_factor") if answers[feature]]
        result = run(
            self.bin("python"),
            "-c",
            FEATURES_SCRIPT,
            json.dumps(people),
            *features,
            cwd=self.path,
            env=self.service_env(redis_url),
        )
        return json.loads(result.stdout.splitlines()[-1])

    def check(self, redis_url: str) -> None:
        """What the README asks after an update: sync, the pre-commit checks, migrations on the
        live database, models and migrations in agreement, and the project's own suite."""
        self.sync()
        self.sh("git", "add", "--all")
        run(self.bin("pre-commit"), "run", "--all-files", cwd=self.path, env=self.env())
        self.migrate()
        suite = self.sh(
            self.bin("pytest"),
            "-q",
            "-p",
            "no:cacheprovider",
            "--cov",
            f"--cov-fail-under={COVERAGE_GATE}",
            TEST_DATABASE_URL=self.test_database_url,
            TEST_REDIS_URL=redis_url,
        )
        assert " passed" in suite
        assert " failed" not in suite
        assert f"Required test coverage of {COVERAGE_GATE}" in suite


def generate(
    template: Path,
    release: Version,
    variant: Variant,
    destination: Path,
    *,
    sync: bool = True,
    copier: Path = COPIER,
) -> Service:
    """`copier copy` at the release, then what the README says: a git repository, `uv sync`,
    and the lock file committed with the rest."""
    run(
        copier,
        "copy",
        "--trust",
        "--defaults",
        "--vcs-ref",
        str(release),
        *(f"--data={name}={_typed(value)}" for name, value in variant.answers.items()),
        template,
        destination,
        cwd=destination.parent,
        env=project_env(**GIT_IDENTITY),
    )
    service = Service(variant, destination, copier)
    service.sh("git", "init", "--quiet", "--initial-branch=main")
    if sync:
        service.sync()
    service.commit("Start from the template")
    return service


def _typed(value: object) -> str:
    """An answer as `--data` takes it: YAML, so a boolean is `true` or `false`."""
    return str(value).lower() if isinstance(value, bool) else str(value)


#: A team's edit of each file the template later moved (`follow_moves.MOVES`): the line it
#: changed, and the line it wrote instead, which must arrive at the file's new place.
MOVED_FILE_EDITS = {
    "src/{package}/core/pagination.py": (
        "MAX_PAGE_SIZE = 100\n",
        "# The most a client may ask for at once (our note).\nMAX_PAGE_SIZE = 100\n",
    ),
    "src/{package}/core/codes.py": (
        "    offline without it.\n",
        "    offline without it (checked by our security review).\n",
    ),
}


def wire_reports_router(service: Service) -> dict[str, str]:
    """Register the team's router where its release says: in `domains.py`, or in `main.py`
    before there was one (among the template's routers, not last: a feature adds its own after
    the last, and a change next to the template's is a conflict)."""
    package = service.path / "src" / PACKAGE
    domains = package / "domains.py"
    if not domains.exists():
        _replace(
            package / "main.py",
            "from .users.router import router as users_router\n",
            "from .reports.router import router as reports_router\n"
            "from .users.router import router as users_router\n",
        )
        _replace(
            package / "main.py",
            "    api.include_router(users_router)\n",
            "    api.include_router(users_router)\n    api.include_router(reports_router)\n",
        )
        return {f"src/{PACKAGE}/main.py": "api.include_router(reports_router)"}
    _replace(
        domains,
        "from .users.profile import ProfileSection\n",
        "from .reports.router import router as reports_router\n"
        "from .users.profile import ProfileSection\n",
    )
    _replace(
        domains,
        "ROUTERS: tuple[APIRouter, ...] = ()",
        "ROUTERS: tuple[APIRouter, ...] = (reports_router,)",
    )
    return {f"src/{PACKAGE}/domains.py": "= (reports_router,)"}


def edit_moved_files(service: Service) -> dict[str, str]:
    """Edit each file the template moved, as a team may have: at its old place in a release
    before the move (the edit must follow it), at its new place in a later one."""
    expected = {}
    for move in MOVES:
        old, new = (move[place].format(package=PACKAGE) for place in ("old", "new"))
        before, after = MOVED_FILE_EDITS[move["old"]]
        _replace(service.path / (old if (service.path / old).exists() else new), before, after)
        expected[new] = after
    return expected


def make_a_teams_edits(service: Service, *, sync: bool = True) -> dict[str, str]:
    """The edits a team makes in its first weeks, committed; each file and a line that must
    survive every update. Without `sync`, the new dependency is locked but not installed."""
    package = service.path / "src" / PACKAGE
    (package / "reports").mkdir()
    (package / "reports" / "__init__.py").write_text('"""Reports: our own domain."""\n')
    (package / "reports" / "router.py").write_text(
        '"""Reports, a domain of our own beside the template\'s."""\n\n'
        "from fastapi import APIRouter\n\n"
        'router = APIRouter(prefix="/reports", tags=["reports"])\n\n\n'
        '@router.get("/status")\n'
        "async def report_status() -> dict[str, str]:\n"
        '    return {"reports": "ready"}\n'
    )
    wired = wire_reports_router(service)
    moved = edit_moved_files(service)
    _replace(
        package / "core" / "config.py",
        "db_pool_recycle: int = Field(default=1800, ge=1)",
        "db_pool_recycle: int = Field(default=900, ge=1)",
    )
    _replace(
        service.path / "README.md",
        "\nA production-ready FastAPI service.\n",
        "\nAcme's order book: orders in, invoices out, kept by the orders team.\n",
    )
    (service.path / "tests" / "test_reports.py").write_text(
        '"""Our own test, beside the template\'s."""\n\n'
        "from httpx import AsyncClient\n\n\n"
        "async def test_reports_are_ready(client: AsyncClient) -> None:\n"
        '    response = await client.get("/api/v1/reports/status")\n\n'
        '    assert response.json() == {"reports": "ready"}\n'
    )
    first_line = (service.path / "tests" / "test_app.py").read_text().splitlines()[0]
    _replace(
        service.path / "tests" / "test_app.py",
        first_line,
        '"""The application as our servers run it: through the ASGI lifespan protocol."""',
    )
    service.sh("uv", "add", "--quiet", *(() if sync else ("--no-sync",)), "humanize>=4.9")
    service.commit("Our own work")
    return {
        **wired,
        **moved,
        f"src/{PACKAGE}/reports/router.py": '{"reports": "ready"}',
        f"src/{PACKAGE}/core/config.py": "Field(default=900, ge=1)",
        "README.md": "Acme's order book: orders in, invoices out",
        "tests/test_reports.py": "test_reports_are_ready",
        "tests/test_app.py": "as our servers run it",
        "pyproject.toml": '"humanize>=4.9"',
    }


def move_the_wiring_to_domains(service: Service, edits: dict[str, str]) -> dict[str, str]:
    """The one conflict a team that started before `domains.py` meets, resolved as the CHANGELOG
    says: `main.py` lists no routers any more, so it takes the release's version, and the
    team's router joins `ROUTERS` in `domains.py`. Before that, the conflict must hold both
    sides, and be the only one."""
    main = f"src/{PACKAGE}/main.py"
    status = service.sh("git", "status", "--porcelain").splitlines()
    conflicted = [line[3:] for line in status if line[:2] == "UU"]
    text = (service.path / main).read_text()

    assert conflicted == [main]
    assert "<<<<<<< before updating" in text
    assert edits[main] in text
    service.sh("git", "checkout", "--theirs", "--", main)
    service.sh("git", "add", "--", main)
    return {**{k: v for k, v in edits.items() if k != main}, **wire_reports_router(service)}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: update the team's edits"
    path.write_text(text.replace(old, new, 1))


def assert_updated_cleanly(service: Service, edits: dict[str, str], template: Path) -> None:
    """No conflict, no rejected hunk, every edit kept, and the answers name the new version."""
    status = service.sh("git", "status", "--porcelain", "--ignored").splitlines()
    conflicted = [line for line in status if line[:2] in {"UU", "AA", "DU", "UD"}]
    rejected = [line for line in status if line.endswith(".rej")]
    markers = [
        str(path.relative_to(service.path))
        for path in service.path.rglob("*")
        if path.is_file()
        and not {".venv", ".git"}.intersection(path.relative_to(service.path).parts)
        and CONFLICT_MARKER.search(path.read_text(errors="replace"))
    ]
    lost = [path for path, line in edits.items() if line not in (service.path / path).read_text()]
    answers = yaml.safe_load((service.path / ".copier-answers.yml").read_text())
    described = run("git", "describe", "--tags", "HEAD", cwd=template).stdout.strip()

    assert (conflicted, rejected, markers) == ([], [], [])
    assert lost == []
    assert answers["_commit"] == described


def assert_env_completed(service: Service, env_before: str, told: str) -> None:
    """`.env` kept every line it had and now names every setting of `.env.example`; the
    update said which settings it added."""
    env = (service.path / ".env").read_text()
    setting = re.compile(r"^(?:# ?)?([A-Z][A-Z0-9_]*)=", re.M)
    added = setting.findall(env.removeprefix(env_before))

    assert env.startswith(env_before), "the update changed what .env held"
    assert set(setting.findall((service.path / ".env.example").read_text())) <= set(
        setting.findall(env)
    )
    assert [name for name in added if name not in told] == []


def assert_features_follow_the_answers(service: Service) -> None:
    """Each feature's folders are there exactly when it is on, and a feature that is off left
    no trace in any file the project commits."""
    answers = yaml.safe_load((service.path / ".copier-answers.yml").read_text())
    compose = yaml.safe_load((service.path / "compose.yaml").read_text())["services"]
    migrations = service.path / MIGRATIONS
    committed = [Path(path) for path in service.tree()]

    # A release before 0.3.0 asked nothing of observability: absent is off.
    disabled = [f for f in (*FEATURES, *OBSERVABILITY) if not answers.get(f)]
    assert feature_traces(service.path, committed, disabled) == []

    assert (service.path / "src" / PACKAGE / "worker").is_dir() == answers["celery"]
    assert ("worker" in compose) == answers["celery"]
    for feature in ("two_factor", "teams"):
        assert (service.path / "src" / PACKAGE / feature).is_dir() == answers[feature]
        assert (migrations / feature).is_dir() == answers[feature]
    if answers["two_factor"]:
        # A key of the project's own, not the example's placeholder.
        [key] = re.findall(
            r"^TWO_FACTOR_ENCRYPTION_KEY=(.+)$", (service.path / ".env").read_text(), re.M
        )
        assert key not in (service.path / ".env.example").read_text()


def assert_the_features_work_on_the_live_rows(service: Service, found: dict) -> None:
    """Every live person has one team, personal, owned, current; two-factor sign-in works."""
    answers = yaml.safe_load((service.path / ".copier-answers.yml").read_text())
    if answers["teams"]:
        assert {email: found.get(email) for email, _ in PEOPLE} == {
            email: [[True, "owner", True]] for email, _ in PEOPLE
        }
    if answers["two_factor"]:
        assert found["two_factor"] == [200, 10, True, 200, True]


def rows_lost(before: dict[str, list[dict[str, object]]], after: dict[str, list[dict]]) -> dict:
    """The rows of `before` that `after` no longer holds, compared on `before`'s columns (an
    update may add columns and rows, never lose them)."""
    lost = {}
    for table, rows in before.items():
        if not rows:
            continue
        kept = [{column: row.get(column) for column in rows[0]} for row in after.get(table, [])]
        missing = [row for row in rows if row not in kept]
        if missing:
            lost[table] = missing
    return lost


def sign_in_live_people(service: Service, redis_url: str) -> list[dict[str, object]]:
    """The people of the live database: created with the CLI, then signed in over HTTP."""
    for email, password in PEOPLE:
        run(
            service.bin("acme-orders"),
            "create-superuser",
            email,
            "--password-stdin",
            cwd=service.path,
            env=service.service_env(redis_url),
            input=f"{password}\n",
        )
    people = [{"email": email, "password": password} for email, password in PEOPLE]
    signed_in = service.sign_in_everyone(redis_url, people)
    assert [(person["login"], person["refresh"]) for person in signed_in] == [(200, 200)] * 3
    return signed_in


def downgrade_what_is_turned_off(service: Service, answers: list[str]) -> dict[str, list[str]]:
    """Before an update turns a feature off, its migration branch is downgraded in the live
    and the test database, as docs/updating.md says; each such feature and its tables."""
    turned_off = {}
    for name, value in (answer.split("=") for answer in answers):
        tables = feature_tables(service.path, name)
        if value == "false" and tables:
            for url in (service.database_url, service.test_database_url):
                service.sh(service.bin("alembic"), "downgrade", f"{name}@base", DATABASE_URL=url)
            turned_off[name] = tables
    return turned_off


def _changes_since(release: Version) -> bool:
    """Whether the CHANGELOG has sections an update from `release` to the template under test
    prints, as the hook finds them: the template under test is a development version past the
    newest release."""
    changelog = (TEMPLATE_ROOT / "CHANGELOG.md").read_text()
    return bool(changes_between(changelog, release, Version(f"{last_releases()[-1]}.post1.dev0")))


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template under test, with its release tags: see `releases.tagged_clone`."""
    return tagged_clone(tmp_path_factory.mktemp("tagged") / "template")


class Copiers:
    """Copier's command line at each version the tests run: the newest is the template's own
    environment's; another gets a virtualenv of its own, once per worker."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._found = {NEWEST_COPIER: COPIER}

    def get(self, version: str) -> Path:
        if version not in self._found:
            venv = self.root / version / ".venv"
            run("uv", "venv", "--quiet", "--python", sys.executable, venv, cwd=self.root)
            python = venv / "bin" / "python"
            run(
                "uv",
                "pip",
                "install",
                "--quiet",
                "--python",
                python,
                f"copier=={version}",
                cwd=self.root,
            )
            self._found[version] = venv / "bin" / "copier"
        return self._found[version]


@pytest.fixture(scope="session")
def copiers(tmp_path_factory: pytest.TempPathFactory) -> Copiers:
    return Copiers(tmp_path_factory.mktemp("copiers"))


@contextmanager
def live_databases(service: Service, redis_url: str, worker_id: str) -> Iterator[str]:
    """The service's live database and its test database, named for the xdist worker (which
    runs one test at a time); yields the live one's name."""
    # The worker's own Redis database: sign-in counters of an earlier run must not carry over.
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    name = f"tpl_update_{worker_id}"
    with (
        throwaway_database(service.variant.database, name) as service.database_url,
        throwaway_database(service.variant.database, f"{name}_test") as service.test_database_url,
    ):
        service.sh(service.bin("alembic"), "upgrade", "heads", DATABASE_URL=service.database_url)
        yield name


def update_and_resolve(
    service: Service, answers: list[str], edits: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """One update as a user runs it, with the conflict the CHANGELOG explains resolved as it
    says; what it printed, and the team's edits as they should now read."""
    told = service.update(*answers)
    if f"src/{PACKAGE}/main.py" in edits:
        edits = move_the_wiring_to_domains(service, edits)
    return told, edits


def _full_params() -> list[object]:
    variants = {variant.id: variant for variant in VARIANTS}
    newest = last_releases()[-1]
    return [
        pytest.param(
            newest,
            variants[variant_id],
            updates,
            id=f"{newest}-{variant_id}",
            marks=pytest.mark.xdist_group(f"update-{newest}-{variant_id}"),
        )
        for variant_id, updates in UPDATE_SCENARIOS.items()
    ]


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize(("release", "variant", "updates"), _full_params())
def test_updates_keep_the_teams_edits_and_data_and_pass_the_suite(
    template: Path,
    tmp_path: Path,
    redis_url: str,
    worker_id: str,
    release: Version,
    variant: Variant,
    updates: list[list[str]],
) -> None:
    service = generate(template, release, variant, tmp_path / "service")
    with live_databases(service, redis_url, worker_id) as name:
        people = sign_in_live_people(service, redis_url)
        rows = table_rows(variant.database, name)
        edits = make_a_teams_edits(service)

        # The answers of each step that passed every check, and the commit it was.
        checked: dict[str, str] = {}
        for step, answers in enumerate(updates):
            turned_off = downgrade_what_is_turned_off(service, answers)
            dropped = {table for tables in turned_off.values() for table in tables}
            assert dropped.isdisjoint(table_rows(variant.database, name))
            # The rows of the tables the team chose to drop are gone; every other row stays.
            rows = {table: kept for table, kept in rows.items() if table not in dropped}
            env_before = (service.path / ".env").read_text()
            told, edits = update_and_resolve(service, answers, edits)

            assert_updated_cleanly(service, edits, template)
            assert_env_completed(service, env_before, told)
            assert_features_follow_the_answers(service)
            if step == 0 and _changes_since(release):
                assert f"What changed in the template since {release}:" in told
            # The update said what goes with each feature before it wrote anything.
            for feature in turned_off:
                assert f"Turning {feature} off removes its code" in told
            recorded = (service.path / ".copier-answers.yml").read_text()
            if recorded in checked:
                # Back to the answers of an earlier step: the project must be that one exactly,
                # which passed every check (a feature turned off leaves nothing behind).
                service.sync()
                assert service.changes_since(checked[recorded]) == []
                service.migrate()
            else:
                service.check(redis_url)
            assert rows_lost(rows, table_rows(variant.database, name)) == {}
            if dropped:
                # Every account signs in without the feature (new sign-ins: the refresh tokens
                # given out before are refreshed at the end).
                fresh = [{"email": email, "password": password} for email, password in PEOPLE]
                signed_in = service.sign_in_everyone(redis_url, fresh)
                assert [(p["login"], p["refresh"]) for p in signed_in] == [(200, 200)] * 3
            service.commit(f"Update from the template ({' '.join(answers) or 'HEAD'})")
            checked.setdefault(recorded, service.sh("git", "rev-parse", "HEAD").strip())

        assert_the_features_work_on_the_live_rows(
            service, service.use_the_features(redis_url, people)
        )
        # Old passwords still sign in (or, with two-factor on, are asked for the second factor),
        # and the refresh tokens given out before still refresh.
        again = service.sign_in_everyone(redis_url, people)
    assert [(person["login"], person["refresh"]) for person in again] == [(200, 200)] * 3


def _converging_params() -> list[object]:
    """Each older release in every scenario, with the newest Copier; and the newest release in
    the defaults' scenario with the oldest Copier. Each makes its scenario's first update."""
    variants = {variant.id: variant for variant in VARIANTS}
    *older, newest = last_releases()
    defaults = next(iter(UPDATE_SCENARIOS))
    starts = [
        (release, variant_id, NEWEST_COPIER) for release in older for variant_id in UPDATE_SCENARIOS
    ]
    if OLDEST_COPIER != NEWEST_COPIER:
        starts.append((newest, defaults, OLDEST_COPIER))
    return [
        pytest.param(
            release,
            variants[variant_id],
            UPDATE_SCENARIOS[variant_id][0],
            version,
            id=f"{release}-{variant_id}-copier-{version}",
            marks=pytest.mark.xdist_group(f"converge-{release}-{variant_id}-{version}"),
        )
        for release, variant_id, version in starts
    ]


@pytest.mark.usefixtures("services")
@pytest.mark.parametrize(("release", "variant", "answers", "copier_version"), _converging_params())
def test_an_older_start_updates_to_the_tree_the_newest_release_gives_and_keeps_its_rows(
    template: Path,
    tmp_path: Path,
    redis_url: str,
    worker_id: str,
    copiers: Copiers,
    release: Version,
    variant: Variant,
    answers: list[str],
    copier_version: str,
) -> None:
    # What the newest release with the newest Copier gives for the same answers and edits: the
    # tree the full test of this scenario proves.
    newest = generate(template, last_releases()[-1], variant, tmp_path / "newest", sync=False)
    update_and_resolve(newest, answers, make_a_teams_edits(newest, sync=False))

    service = generate(
        template, release, variant, tmp_path / "service", copier=copiers.get(copier_version)
    )
    with live_databases(service, redis_url, worker_id) as name:
        people = sign_in_live_people(service, redis_url)
        rows = table_rows(variant.database, name)
        edits = make_a_teams_edits(service)
        env_before = (service.path / ".env").read_text()
        told, edits = update_and_resolve(service, answers, edits)

        assert_updated_cleanly(service, edits, template)
        assert_env_completed(service, env_before, told)
        tree, expected = service.tree(), newest.tree()
        assert f"src/{PACKAGE}/reports/router.py" in expected  # the team's work is in the tree
        assert [
            path for path in tree.keys() | expected.keys() if tree.get(path) != expected.get(path)
        ] == []
        service.sync()
        service.migrate()
        assert rows_lost(rows, table_rows(variant.database, name)) == {}
        again = service.sign_in_everyone(redis_url, people)
    assert [(person["login"], person["refresh"]) for person in again] == [(200, 200)] * 3


@pytest.mark.parametrize("answer", ["database=mysql", "package_name=orders"])
def test_an_update_that_would_change_a_fixed_answer_is_refused_and_changes_nothing(
    template: Path, tmp_path: Path, answer: str
) -> None:
    variant = next(variant for variant in VARIANTS if variant.database == "postgresql")
    service = generate(template, last_releases()[-1], variant, tmp_path / "service", sync=False)
    head = service.sh("git", "rev-parse", "HEAD")

    refused = subprocess.run(
        [COPIER, "update", "--trust", "--defaults", "--vcs-ref", "HEAD", f"--data={answer}"],
        cwd=service.path,
        env=service.env(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert refused.returncode != 0
    assert f"Cannot change {answer.split('=')[0]} from " in refused.stderr
    assert service.sh("git", "status", "--porcelain", "--ignored") == "!! .env\n"
    assert service.sh("git", "rev-parse", "HEAD") == head


def test_where_the_team_and_a_release_change_the_same_line_the_conflict_is_kept_and_caught(
    template: Path, tmp_path: Path
) -> None:
    """A release of the template that rewrites the README line the team rewrote: both versions
    are kept for the team to merge, inline or as a .rej file, and pre-commit refuses either."""
    upstream = tmp_path / "upstream"
    run("git", "clone", "--quiet", template, upstream, cwd=tmp_path)
    _replace(upstream / "template" / "README.md.jinja", "\n{{ description }}\n", "\nUpstream.\n")
    run(
        "git",
        "commit",
        "--quiet",
        "-am",
        "A line the team changed too",
        cwd=upstream,
        env=project_env(**GIT_IDENTITY),
    )
    variant = next(variant for variant in VARIANTS if variant.database == "postgresql")
    service = generate(upstream, last_releases()[-1], variant, tmp_path / "service", sync=False)
    _replace(service.path / "README.md", "\nA production-ready FastAPI service.\n", "\nOurs.\n")
    service.commit("Our own description")

    def caught(hook: str) -> str:
        service.sync()
        service.sh("git", "add", "--all")
        checked = subprocess.run(
            [service.bin("pre-commit"), "run", hook, "--all-files"],
            cwd=service.path,
            env=service.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode != 0, checked.stdout
        return checked.stdout

    service.update()
    readme = (service.path / "README.md").read_text()
    assert "UU README.md" in service.sh("git", "status", "--porcelain")
    assert re.search(r"<<<<<<< .*\nOurs\.\n=======\nUpstream\.\n>>>>>>> ", readme), readme
    assert "README.md" in caught("check-merge-conflict")

    service.sh("git", "reset", "--quiet", "--hard")
    service.sh("git", "clean", "--quiet", "-d", "--force")
    service.sh(COPIER, "update", "--trust", "--defaults", "--vcs-ref", "HEAD", "--conflict", "rej")
    # The file takes the release's line; the team's change waits beside it, to apply again.
    assert "Upstream." in (service.path / "README.md").read_text()
    assert "+Ours." in (service.path / "README.md.rej").read_text()
    assert "README.md.rej" in caught("no-rejected-hunks")
