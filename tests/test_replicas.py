"""Replicas tier: the contract holds across replicas. The all-on variant runs as two replicas,
each the image's production server (gunicorn, one uvicorn worker) on a port of its own, against
one database and one Redis database, behind a real HAProxy that deals requests round-robin and
tags every answer with the replica that served it (`X-Replica`). Each test walks a journey in
which consecutive requests land on different replicas, and asserts that they did.

One database, one pair of replicas, one Celery worker, one inbox and one HAProxy serve the whole
module; every test has accounts of its own. Every rate limit is wide open but the per-account
password limit, which only wrong passwords count (the one test that needs it sends them).
"""

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyotp
import pytest
from redis import Redis

from .conftest import PACKAGE, VARIANTS, Projects, project_env, run, wide_open_limits
from .mail import Inbox, catching_mail
from .services import POSTGRES_URL, throwaway_database
from .serving import START_SECONDS, celery_worker, free_port, running

VARIANT = next(variant for variant in VARIANTS if variant.id == "pg-celery-2fa-teams")
DATABASE_PREFIX = os.environ.get("TEMPLATE_TEST_DATABASE_PREFIX", "tpl_")
DATABASE = f"{DATABASE_PREFIX}replicas_{VARIANT.id.replace('-', '_')}"
API = "/api/v1"
PASSWORD = "a long replicated passphrase"
REPLICAS = ("r1", "r2")
#: Wrong passwords one account may send; the tier's one limit that is not wide open.
PASSWORD_GUESSES = 4

pytestmark = [pytest.mark.usefixtures("services"), pytest.mark.xdist_group(VARIANT.id)]

#: Round-robin over the replicas; a replica found dead (refused, or closed without an answer)
#: is left for the other at once, and its health checks take it out within half a second.
HAPROXY_CONFIG = """\
global
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    timeout connect 250ms
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    # Retries replay the request: HAProxy keeps it whole, body included, until it is answered.
    option http-buffer-request

frontend api
    bind 127.0.0.1:{port}
    default_backend replicas
    # Every answer, HAProxy's own included, names the server that gave it (<NOSRV>: none).
    http-after-response set-header X-Replica %s

backend replicas
    balance roundrobin
    option httpchk GET /health/live
    default-server check inter 250ms fall 2 rise 2
{servers}
"""


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to the master and its worker at once: no shutdown of any kind runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    base_url: str
    replicas: dict[str, Replica]
    inbox: Inbox


def _haproxy() -> str:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.exit(
            "HAProxy is not installed: the replicas tier runs one in front of the replicas. "
            "Install it (`apt-get install haproxy`, `brew install haproxy`).",
            returncode=3,
        )
    return haproxy


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start", pytrace=False)
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _replica(
    name: str, gunicorn: Path, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[Replica]:
    """The image's server, as its Dockerfile starts it, on a port of its own: in a process group
    of its own, so that a kill takes the master and its worker together."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                gunicorn,
                *("-c", f"python:{PACKAGE}.server", f"{PACKAGE}.main:app"),
                *("--bind", f"127.0.0.1:{port}"),
            ],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    replica = Replica(name, port, process, log)
    try:
        yield replica
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                replica.kill()


@contextmanager
def _balancing(haproxy: str, replicas: list[Replica], config: Path) -> Iterator[str]:
    port = free_port()
    servers = "\n".join(
        f"    server {replica.name} 127.0.0.1:{replica.port}" for replica in replicas
    )
    config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers))
    base_url = f"http://127.0.0.1:{port}"
    with running(
        [haproxy, "-db", "-f", config],
        cwd=config.parent,
        env=dict(os.environ),
        log=config.with_suffix(".log"),
        ready=lambda: _answers(f"{base_url}/health/live"),
        what="HAProxy",
    ):
        yield base_url


@pytest.fixture(scope="module")
def cluster(
    projects: Projects, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    haproxy = _haproxy()
    project = projects.get(VARIANT)
    logs = tmp_path_factory.mktemp("replicas")
    with Redis.from_url(redis_url) as redis:
        redis.flushdb()
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database(VARIANT.database, DATABASE))
        inbox = stack.enter_context(catching_mail())
        env = project_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(inbox.port),
            LOG_LEVEL="WARNING",
            WEB_CONCURRENCY="1",
            GRACEFUL_SHUTDOWN_SECONDS="5",
            RATE_LIMIT_LOGIN_PER_EMAIL=f"{PASSWORD_GUESSES} per 5 minutes",
            **wide_open_limits(keeping=["LOGIN_PER_EMAIL"]),
        )
        run(project.bin("alembic"), "upgrade", "heads", cwd=project.path, env=env)
        stack.enter_context(
            celery_worker(
                project.bin("celery"),
                f"{PACKAGE}.worker.app",
                cwd=project.path,
                env=env,
                log=logs / "worker.log",
            )
        )
        replicas = [
            stack.enter_context(
                _replica(name, project.bin("gunicorn"), project.path, env, logs / f"{name}.log")
            )
            for name in REPLICAS
        ]
        for replica in replicas:
            _wait_until(
                lambda replica=replica: _answers(f"{replica.base_url}/health/ready"),
                replica.process,
                f"replica {replica.name} ({replica.log.read_text()[-2000:]})",
            )
        base_url = stack.enter_context(_balancing(haproxy, replicas, logs / "haproxy.cfg"))
        yield Cluster(base_url, {replica.name: replica for replica in replicas}, inbox)


@pytest.fixture
def client(cluster: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster.base_url, timeout=30) as client:
        yield client


def _replica_of(response: httpx.Response) -> str:
    return response.headers["x-replica"]


def _on_two_replicas(first: httpx.Response, then: httpx.Response) -> None:
    """The tier must not pass blind: `then` was served by another replica than `first`."""
    assert {_replica_of(first), _replica_of(then)} == set(REPLICAS), (
        _replica_of(first),
        _replica_of(then),
    )


def _email(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}@example.com"


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _account(client: httpx.Client, inbox: Inbox, email: str) -> None:
    """An account as a newcomer makes one: registered, then verified with the mailed code."""
    registered = client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 202, registered.text
    code = inbox.find(email, r"\b\d{8}\b")
    verified = client.post(f"{API}/auth/verify-email", json={"email": email, "code": code})
    assert verified.status_code == 200, verified.text


def _login(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(f"{API}/auth/login", data={"username": email, "password": password})


def _signed_in(client: httpx.Client, email: str) -> dict[str, Any]:
    login = _login(client, email)
    assert login.status_code == 200, login.text
    return dict(login.json())


def test_sign_outs_and_a_new_password_end_tokens_on_the_other_replica_at_once(
    client: httpx.Client, cluster: Cluster
) -> None:
    email = _email("sessions")
    _account(client, cluster.inbox, email)
    first, second, third = (_signed_in(client, email) for _ in range(3))

    logout = client.post(f"{API}/auth/logout", headers=_bearer(first))
    assert logout.status_code == 204, logout.text
    after_logout = client.get(f"{API}/users/me", headers=_bearer(first))
    _on_two_replicas(logout, after_logout)
    assert after_logout.status_code == 401, after_logout.text

    changed = client.post(
        f"{API}/auth/password/change",
        headers=_bearer(second),
        json={"current_password": PASSWORD, "new_password": "a new replicated passphrase"},
    )
    assert changed.status_code == 200, changed.text
    after_change = client.get(f"{API}/users/me", headers=_bearer(third))
    _on_two_replicas(changed, after_change)
    assert after_change.status_code == 401, after_change.text
    refreshed = client.post(f"{API}/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert refreshed.status_code == 401, refreshed.text

    pair = changed.json()
    logout_all = client.post(f"{API}/auth/logout-all", headers=_bearer(pair))
    assert logout_all.status_code == 204, logout_all.text
    after_logout_all = client.get(f"{API}/users/me", headers=_bearer(pair))
    _on_two_replicas(logout_all, after_logout_all)
    assert after_logout_all.status_code == 401, after_logout_all.text


def test_a_per_account_limit_holds_when_the_guesses_are_spread_over_the_replicas(
    client: httpx.Client, cluster: Cluster
) -> None:
    email = _email("guessed")
    _account(client, cluster.inbox, email)
    guesses = [_login(client, email, "a wrong guess at it") for _ in range(PASSWORD_GUESSES)]
    assert [guess.status_code for guess in guesses] == [401] * PASSWORD_GUESSES
    assert {_replica_of(guess) for guess in guesses} == set(REPLICAS)
    # Each replica saw half the guesses: only a count they share has reached the limit.
    refused = [_login(client, email) for _ in REPLICAS]
    assert [answer.status_code for answer in refused] == [429, 429], refused[-1].text
    assert {_replica_of(answer) for answer in refused} == set(REPLICAS)


def _with_two_factor(
    client: httpx.Client, inbox: Inbox, email: str
) -> tuple[pyotp.TOTP, list[str]]:
    """An account with two-factor sign-in on: its authenticator, and its backup codes."""
    _account(client, inbox, email)
    pair = _signed_in(client, email)
    setup = client.post(f"{API}/auth/2fa/setup", headers=_bearer(pair), json={"password": PASSWORD})
    assert setup.status_code == 200, setup.text
    app = pyotp.TOTP(setup.json()["secret"])
    enabled = client.post(f"{API}/auth/2fa/enable", headers=_bearer(pair), json={"code": app.now()})
    assert enabled.status_code == 200, enabled.text
    return app, enabled.json()["backup_codes"]


def _challenge(client: httpx.Client, email: str) -> str:
    login = _login(client, email)
    assert login.status_code == 200, login.text
    assert login.json()["mfa_required"] is True, login.text
    return str(login.json()["mfa_token"])


def test_a_code_from_the_app_used_through_one_replica_is_refused_through_the_other(
    client: httpx.Client, cluster: Cluster
) -> None:
    email = _email("totp")
    app, _ = _with_two_factor(client, cluster.inbox, email)
    first, second = _challenge(client, email), _challenge(client, email)
    # The next step's code: the step `enable` claimed is spent already, and drift allows one.
    code = app.at(time.time() + app.interval)
    used = client.post(f"{API}/auth/2fa/verify", json={"mfa_token": first, "code": code})
    assert used.status_code == 200, used.text
    again = client.post(f"{API}/auth/2fa/verify", json={"mfa_token": second, "code": code})
    _on_two_replicas(used, again)
    assert again.status_code == 400, again.text
    assert again.json()["error"]["code"] == "invalid_code"


def _race(cluster: Cluster, path: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """The bodies sent at the same moment, one straight to each replica (not through HAProxy),
    on connections opened beforehand."""
    barrier = threading.Barrier(len(REPLICAS))
    answers: dict[str, httpx.Response] = {}

    def send(name: str, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=cluster.replicas[name].base_url, timeout=30) as direct:
            direct.get("/health/live")
            barrier.wait()
            answers[name] = direct.post(path, json=body)

    threads = [
        threading.Thread(target=send, args=(name, body))
        for name, body in zip(REPLICAS, bodies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answers[name] for name in REPLICAS]


def test_two_replicas_racing_on_one_refresh_token_let_exactly_one_win(
    client: httpx.Client, cluster: Cluster
) -> None:
    email = _email("refresh-race")
    _account(client, cluster.inbox, email)
    token = _signed_in(client, email)["refresh_token"]
    answers = _race(cluster, f"{API}/auth/refresh", [{"refresh_token": token}] * 2)
    statuses = sorted(answer.status_code for answer in answers)
    # The loser was a moment late: within the grace window, it is told so and revokes nothing.
    assert statuses == [200, 409], [answer.text for answer in answers]


def test_two_replicas_racing_on_one_backup_code_let_exactly_one_win(
    client: httpx.Client, cluster: Cluster
) -> None:
    email = _email("backup-race")
    _, codes = _with_two_factor(client, cluster.inbox, email)
    challenges = [_challenge(client, email) for _ in REPLICAS]
    bodies = [{"mfa_token": challenge, "backup_code": codes[0]} for challenge in challenges]
    answers = _race(cluster, f"{API}/auth/2fa/verify", bodies)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 400], [answer.text for answer in answers]
    status = client.get(
        f"{API}/auth/2fa", headers=_bearer(next(a for a in answers if a.is_success).json())
    )
    assert status.json()["backup_codes_left"] == len(codes) - 1, status.text


def test_a_member_removed_on_one_replica_is_out_on_the_other_at_the_next_request(
    client: httpx.Client, cluster: Cluster
) -> None:
    owner_email, member_email = _email("owner"), _email("member")
    for email in (owner_email, member_email):
        _account(client, cluster.inbox, email)
    owner, member = _signed_in(client, owner_email), _signed_in(client, member_email)
    created = client.post(f"{API}/teams", headers=_bearer(owner), json={"name": "Replicated"})
    assert created.status_code == 201, created.text
    team = f"{API}/teams/{created.json()['id']}"
    invited = client.post(
        f"{team}/invitations", headers=_bearer(owner), json={"email": member_email}
    )
    assert invited.status_code == 201, invited.text
    token = cluster.inbox.find(member_email, r"(?m)^ {4}([A-Za-z0-9_-]{20,})\s*$")
    accepted = client.post(
        f"{API}/invitations/accept", headers=_bearer(member), json={"token": token}
    )
    assert accepted.status_code == 200, accepted.text
    member_id = client.get(f"{API}/users/me", headers=_bearer(member)).json()["id"]
    # The member reads the team through both replicas before the removal.
    reads = [client.get(team, headers=_bearer(member)) for _ in REPLICAS]
    assert [read.status_code for read in reads] == [200, 200]
    assert {_replica_of(read) for read in reads} == set(REPLICAS)

    removed = client.delete(f"{team}/members/{member_id}", headers=_bearer(owner))
    assert removed.status_code == 204, removed.text
    after = client.get(team, headers=_bearer(member))
    _on_two_replicas(removed, after)
    assert after.status_code == 404, after.text


#: The steady load: threads registering accounts through HAProxy, before and after the kill.
LOAD_THREADS = 4
SECONDS_BEFORE_KILL = 2.0
SECONDS_AFTER_KILL = 3.0
#: How long before the kill an answer's work may still have been in flight on the killed
#: process, and how many answers' work at most: a client thread waits for each answer, and its
#: requests alternate between the replicas, so it leaves the victim a few answers' work at most.
#: On two cores starved by other work, the few statements after an answer took up to 0.65 s.
IN_FLIGHT_SECONDS = 1.0
IN_FLIGHT_MOST = 2 * LOAD_THREADS
#: Seconds without a new mail after which the worker has sent all it will.
QUIET_SECONDS = 3.0


@dataclass(frozen=True)
class _Answer:
    email: str
    status: int
    replica: str
    sent: float
    answered: float


def test_a_replica_killed_under_load_loses_only_its_work_in_flight_and_sends_no_mail_twice(
    cluster: Cluster,
) -> None:
    answers: list[_Answer] = []
    failures: list[str] = []
    stop = threading.Event()

    def register(worker: int) -> None:
        with httpx.Client(base_url=cluster.base_url, timeout=30) as client:
            for number in range(10_000):
                if stop.is_set():
                    return
                email = f"load-{worker}-{number}-{uuid.uuid4().hex[:6]}@example.com"
                sent = time.monotonic()
                try:
                    answer = client.post(
                        f"{API}/auth/register", json={"email": email, "password": PASSWORD}
                    )
                except httpx.HTTPError as error:  # HAProxy must always answer
                    failures.append(f"{email}: {type(error).__name__}: {error}")
                    continue
                answers.append(
                    _Answer(email, answer.status_code, _replica_of(answer), sent, time.monotonic())
                )

    threads = [threading.Thread(target=register, args=(worker,)) for worker in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(SECONDS_BEFORE_KILL)
        victim, survivor = cluster.replicas["r2"], cluster.replicas["r1"]
        killed_at = time.monotonic()
        victim.kill()
        time.sleep(SECONDS_AFTER_KILL)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert not failures, failures[:5]
    # The load reached both replicas before the kill, and went on after it, on the survivor.
    assert {a.replica for a in answers if a.answered < killed_at} == set(REPLICAS)
    after_kill = [a for a in answers if a.sent > killed_at + 1]
    assert after_kill, "no request was answered after the kill"
    assert {a.replica for a in after_kill} == {survivor.name}, Counter(
        a.replica for a in after_kill
    )
    # A 5xx is only an answer that was in flight on the killed process.
    errors = [a for a in answers if a.status >= 500]
    assert all(a.replica == victim.name and a.sent < killed_at for a in errors), errors
    accepted = [a.email for a in answers if a.status == 202]
    assert len(accepted) + len(errors) == len(answers), Counter(a.status for a in answers)

    # Every accepted registration has its account and exactly one verification mail; no mail
    # went twice. The worker delivers them in its own time: wait until all came, or none came
    # for a while.
    deadline, arrived, quiet_since = time.monotonic() + 30, -1, time.monotonic()
    while time.monotonic() < deadline and not all(cluster.inbox.to(email) for email in accepted):
        if len(cluster.inbox.mails) != arrived:
            arrived, quiet_since = len(cluster.inbox.mails), time.monotonic()
        elif time.monotonic() - quiet_since > QUIET_SECONDS:
            break
        time.sleep(0.2)
    with psycopg.connect(POSTGRES_URL, dbname=DATABASE) as connection:
        rows = connection.execute("SELECT email FROM users WHERE email LIKE 'load-%%'").fetchall()
    registered = {email for (email,) in rows}
    mails = Counter(mail.to for mail in cluster.inbox.mails if mail.to.startswith("load-"))
    twice = {email: count for email, count in mails.items() if count > 1}
    assert not twice, twice
    subjects = {mail.subject for mail in cluster.inbox.mails if mail.to.startswith("load-")}
    assert all("verification code" in subject for subject in subjects), subjects
    # A registration's account and mail are made after its answer: what the killed process held
    # of that work was in flight, a few statements for each of its last answers, and is all a
    # kill may take (a process that let answered work pile up would lose much more).
    answered = {a.email: a for a in answers}
    incomplete = [
        answered[email] for email in accepted if email not in registered or not mails[email]
    ]
    in_flight = [
        a
        for a in incomplete
        if a.replica == victim.name and killed_at - IN_FLIGHT_SECONDS < a.answered < killed_at
    ]
    assert incomplete == in_flight, (
        f"{len(incomplete)} of {len(accepted)} accepted registrations have no account or no "
        "mail: "
        + ", ".join(
            f"{a.replica} {killed_at - a.answered:.3f}s before the kill"
            f" ({'no mail' if a.email in registered else 'no account'})"
            for a in incomplete[:10]
        )
    )
    assert len(in_flight) <= IN_FLIGHT_MOST, in_flight
    print(  # what the run met, for `pytest -rP`
        f"{len(answers)} registrations, {len(accepted)} accepted, {len(errors)} 5xx, "
        f"{len(in_flight)} of the killed replica's last answers without their work"
    )
