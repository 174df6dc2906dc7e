"""Kubernetes tier: each variant's manifests (deploy/kubernetes) build with kustomize, validate
strictly against Kubernetes' schemas, and agree with the service they deploy; no cluster, no
services.

The schemas say whether an object is well formed; the rest is what they cannot say: that every
variable set is a setting the service reads and that production gets each one it needs (the
settings are loaded, in the variant's own virtualenv, from what the manifests give), that the
probes ask routes the app serves, that the commands are the image's and compose's, that every
container runs unprivileged, and that a rollout never drops below the wanted replicas.
"""

import base64
import functools
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from .conftest import PACKAGE, Project, Projects, Variant, run, variant_params
from .services import SERVICE_DRIVERS

#: The Kubernetes versions whose schemas the manifests must meet: the oldest they claim (the
#: kubectl of these machines) and the newest that the pinned kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.32", "1.37")
KUSTOMIZATIONS = ("base", "overlays/production")
SLUG = PACKAGE.replace("_", "-")
SECRET = f"{SLUG}-secrets"
#: What the production overlay names the image; a user changes it to their registry's.
PRODUCTION_IMAGE = f"registry.example.com/{SLUG}:0.1.0"
#: Variables the service reads that are not fields of its settings.
STANDARD_VARIABLES = re.compile(r"PROMETHEUS_MULTIPROC_DIR|OTEL_[A-Z_]+")
#: The settings whose defaults only suit a laptop: production must be given each one.
PRODUCTION_NEEDS = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_HOST"}
#: Stand-ins for the Secret's values, as valid as real ones.
DUMMY_SECRETS = {
    "SECRET_KEY": "k" * 48,
    "REDIS_URL": "redis://redis.example.internal:6379/0",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_USERNAME": "acme",
    "SMTP_PASSWORD": "a-password",
    "EMAIL_SENDER_ADDRESS": "noreply@acme.example",
    "TWO_FACTOR_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
}
#: What the rendered service says of itself: its settings, its routes, its CLI's commands.
FACTS = f"""import json
from typer.main import get_command
from {PACKAGE}.cli import app as cli
from {PACKAGE}.core.config import Settings
from {PACKAGE}.main import app
print(json.dumps({{
    "settings": [name.upper() for name in Settings.model_fields],
    "routes": sorted(app.openapi()["paths"]),
    "commands": sorted(get_command(cli).commands),
}}))"""
#: Loads the settings from the environment alone, as a pod does.
LOAD_SETTINGS = f"""from {PACKAGE}.core.config import Settings
print(Settings(_env_file=None).environment)"""

pytestmark = pytest.mark.parametrize("variant", variant_params())


@pytest.fixture(scope="session")
def kubectl() -> str:
    """Stops the run with one line when there is no kubectl to build the manifests with."""
    path = shutil.which("kubectl")
    if path is None:
        pytest.exit(
            "kubectl is not on PATH: the Kubernetes tier (tests/test_kubernetes.py) builds the "
            "manifests with `kubectl kustomize`; install kubectl 1.32 or newer (its kustomize "
            "is built in), or deselect the tier.",
            returncode=3,
        )
    return path


@functools.cache
def _build(kubectl: str, root: Path, kustomization: str) -> tuple[dict[str, Any], ...]:
    result = run(kubectl, "kustomize", f"deploy/kubernetes/{kustomization}", cwd=root)
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def _production(kubectl: str, project: Project) -> tuple[dict[str, Any], ...]:
    return _build(kubectl, project.path, "overlays/production")


_FACTS: dict[Path, dict[str, list[str]]] = {}


def _facts(project: Project) -> dict[str, list[str]]:
    if project.path not in _FACTS:
        result = run(project.bin("python"), "-c", FACTS, cwd=project.path)
        _FACTS[project.path] = json.loads(result.stdout.splitlines()[-1])
    return _FACTS[project.path]


def _named(objects: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _pods(objects: tuple[dict[str, Any], ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each workload's name and pod template."""
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in {"Deployment", "Job"}:
            yield name, obj["spec"]["template"]
        elif obj["kind"] == "CronJob":
            yield name, obj["spec"]["jobTemplate"]["spec"]["template"]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def _container(objects: tuple[dict[str, Any], ...], workload: str) -> dict[str, Any]:
    """The main container of a workload, such as `Deployment/acme-orders-api`."""
    [container] = dict(_pods(objects))[workload]["spec"]["containers"]
    return container


def _config(objects: tuple[dict[str, Any], ...]) -> dict[str, str]:
    [config] = [obj for obj in objects if obj["kind"] == "ConfigMap"]
    return config["data"]


def _dockerfile(project: Project) -> dict[str, str]:
    """The final stage's instructions of the Dockerfile, by keyword."""
    lines = [
        line.split(maxsplit=1)
        for line in (project.path / "Dockerfile").read_text().splitlines()
        if line[:1].isalpha()
    ]
    last = max(i for i, (keyword, _) in enumerate(lines) if keyword == "FROM")
    return dict(lines[last:])


def _compose_command(project: Project, service: str) -> list[str]:
    compose = yaml.safe_load((project.path / "compose.yaml").read_text())
    return compose["services"][service]["command"]


def _readme_section(project: Project) -> str:
    readme = (project.path / "README.md").read_text()
    return readme.split("\n## Kubernetes\n", 1)[1].split("\n## ", 1)[0]


def test_the_manifests_build_and_meet_the_schemas_strictly(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    problems = []
    for kustomization in KUSTOMIZATIONS:
        objects = _build(kubectl, project.path, kustomization)
        assert objects, f"{kustomization} builds nothing"
        for obj, version in ((obj, v) for obj in objects for v in KUBERNETES_VERSIONS):
            name = f"{kustomization}: {obj['kind']}/{obj['metadata']['name']} on {version}"
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(map(str, error.path))
                problems.append(f"{name}: {path}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                problems.append(f"{name}: {error.message}")

    assert problems == []


def test_only_what_the_variant_has_is_deployed(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    objects = _production(kubectl, project)
    kinds = {(obj["kind"], obj["metadata"]["name"].removeprefix(f"{SLUG}-")) for obj in objects}
    config = [name for kind, name in kinds if kind == "ConfigMap"]

    background = {("Deployment", "worker"), ("Deployment", "beat")}
    expected = {
        *(("Deployment", "api"), ("Service", "api"), ("HorizontalPodAutoscaler", "api")),
        *(("PodDisruptionBudget", "api"), ("Job", "migrate"), ("ConfigMap", config[0])),
        *(("NetworkPolicy", "deny-ingress"), ("NetworkPolicy", "api")),
        *(background if variant.celery else {("CronJob", "clean-up")}),
        *({("NetworkPolicy", "worker")} if variant.celery and variant.metrics else set()),
    }
    assert kinds == expected
    # The Secret is named, never shipped: its values are the deployment's own.
    assert not any(obj["kind"] == "Secret" for obj in objects)
    for obj in objects:
        assert obj["metadata"]["namespace"] == SLUG
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == SLUG
        assert labels["app.kubernetes.io/part-of"] == SLUG
    for name, pod in _pods(objects):
        labels = pod["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == SLUG, name
        assert labels["app.kubernetes.io/component"], name
        # The base names the image by the project's name; the overlay gives the registry's.
        assert {c["image"] for c in _containers(pod)} == {PRODUCTION_IMAGE}, name
    for name, pod in _pods(_build(kubectl, project.path, "base")):
        assert {c["image"] for c in _containers(pod)} == {SLUG}, name


def test_every_variable_is_a_setting_and_production_gets_what_it_needs(
    kubectl: str, projects: Projects, variant: Variant, tmp_path: Path
) -> None:
    project = projects.get(variant)
    objects = _production(kubectl, project)
    settings = set(_facts(project)["settings"])
    config = _config(objects)
    dummies = {
        **DUMMY_SECRETS,
        "DATABASE_URL": f"{SERVICE_DRIVERS[variant.database]}://app:pw@db.example.internal/app",
    }
    needs = PRODUCTION_NEEDS | ({"TWO_FACTOR_ENCRYPTION_KEY"} if variant.two_factor else set())
    referenced: dict[str, bool] = {}  # each key of the Secret, and whether it is optional
    environments = set()
    for name, pod in _pods(objects):
        for container in _containers(pod):
            where = f"{name}, {container['name']}"
            [source] = container["envFrom"]
            assert source["configMapRef"]["name"] in _named(objects, "ConfigMap"), where
            environment = dict(config)
            for variable in container.get("env", []):
                secret = variable.get("valueFrom", {}).get("secretKeyRef")
                if secret is None:
                    environment[variable["name"]] = variable["value"]
                    continue
                assert secret["name"] == SECRET, where
                assert secret["key"] == variable["name"], where
                referenced[secret["key"]] = secret.get("optional", False)
                if not secret.get("optional", False):  # an optional key stays unset here
                    assert secret["key"] in dummies, f"no stand-in value for {secret['key']}"
                    environment[variable["name"]] = dummies[secret["key"]]
            names = {v["name"] for v in container.get("env", [])} | set(config)
            unknown = {n for n in names if n not in settings and not STANDARD_VARIABLES.match(n)}
            assert unknown == set(), f"{where} sets what the service never reads"
            assert needs - names == set(), f"{where} lacks settings production needs"
            assert environment["ENVIRONMENT"] == "production", where
            environments.add(tuple(sorted(environment.items())))

    for environment in environments:
        env = {"PATH": os.environ["PATH"], **dict(environment)}
        result = run(project.bin("python"), "-c", LOAD_SETTINGS, cwd=tmp_path, env=env)
        assert result.stdout.strip() == "production"
    # The README's `kubectl create secret` gives the Secret exactly the keys the pods read.
    readme = _readme_section(project)
    assert set(re.findall(r"--from-literal=([A-Z_0-9]+)=", readme)) == set(referenced)
    assert f"create secret generic {SECRET}" in readme


def test_the_commands_are_the_images_and_composes(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    objects = _production(kubectl, project)
    facts = _facts(project)

    api = _container(objects, f"Deployment/{SLUG}-api")
    assert api["command"] == json.loads(_dockerfile(project)["CMD"])
    migrate = _container(objects, f"Job/{SLUG}-migrate")
    assert (
        migrate["command"]
        == _compose_command(project, "migrate")
        == [
            "alembic",
            "upgrade",
            "heads",
        ]
    )
    assert "alembic upgrade heads" in (project.path / "README.md").read_text()
    # A new version serves only once the database is at its migrations' heads.
    waiting = [f"Deployment/{SLUG}-api", *([f"Deployment/{SLUG}-worker"] if variant.celery else [])]
    for workload in waiting:
        [init] = dict(_pods(objects))[workload]["spec"]["initContainers"]
        assert init["command"][:2] == [SLUG, "wait-for-migrations"], workload
    assert "wait-for-migrations" in facts["commands"]
    if variant.celery:
        worker = _container(objects, f"Deployment/{SLUG}-worker")["command"]
        compose_worker = _compose_command(project, "worker")
        assert worker[: len(compose_worker)] == compose_worker
        assert _container(objects, f"Deployment/{SLUG}-beat")["command"] == _compose_command(
            project, "beat"
        )
    else:
        clean_up = _container(objects, f"CronJob/{SLUG}-clean-up")["command"]
        assert clean_up == [SLUG, "clean-up"]
        assert "clean-up" in facts["commands"]


def test_the_probes_ask_what_the_app_serves(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    api = _container(_production(kubectl, project), f"Deployment/{SLUG}-api")
    ports = {port["name"]: port["containerPort"] for port in api["ports"]}
    routes = set(_facts(project)["routes"])

    probes = {kind: api[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe")}
    probes["readinessProbe"] = api["readinessProbe"]["httpGet"]
    assert probes["readinessProbe"]["path"] == "/health/ready"
    assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/health/live"
    for kind, probe in probes.items():
        assert probe["path"] in routes, kind
        assert ports[probe["port"]] == 8000, kind
    assert _dockerfile(project)["EXPOSE"] == "8000"


def test_every_container_runs_unprivileged_on_a_read_only_root(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    objects = _production(kubectl, project)
    uid, gid = map(int, _dockerfile(project)["USER"].split(":"))

    for name, pod in _pods(objects):
        spec = pod["spec"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert (security["runAsUser"], security["runAsGroup"]) == (uid, gid), name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name
        volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
        assert all("emptyDir" in volume for volume in volumes.values()), name
        for container in _containers(pod):
            where = f"{name}, {container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, where
            # What a process writes (a schedule, a pidfile, counts) goes to a volume.
            mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
            paths = [a.split("=", 1)[-1] for a in container["command"] if "=/" in a]
            paths += [v["value"] for v in container.get("env", []) if v["name"].endswith("_DIR")]
            for path in paths:
                assert any(path.startswith(f"{mount}/") for mount in mounts), f"{where}: {path}"
    for workload in (f"Deployment/{SLUG}-api", *([f"Deployment/{SLUG}-worker"] * variant.celery)):
        # gunicorn's heartbeat files, a worker's counts: /tmp, in a volume of its own.
        mounts = _container(objects, workload)["volumeMounts"]
        assert {m["mountPath"] for m in mounts} == {"/tmp"}, workload


def test_a_rollout_never_drops_below_the_wanted_replicas(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    objects = _production(kubectl, projects.get(variant))
    deployments = _named(objects, "Deployment")
    api = deployments[f"{SLUG}-api"]

    for name, deployment in deployments.items():
        strategy = deployment["spec"]["strategy"]
        if name == f"{SLUG}-beat":
            # Never two schedulers at once: two would queue every periodic task twice.
            assert deployment["spec"]["replicas"] == 1
            assert strategy == {"type": "Recreate"}
        else:
            assert strategy["type"] == "RollingUpdate", name
            assert strategy["rollingUpdate"]["maxUnavailable"] == 0, name
    # The autoscaler owns the API's replicas; the budget lets a drain take one pod at a time.
    assert "replicas" not in api["spec"]
    [autoscaler] = _named(objects, "HorizontalPodAutoscaler").values()
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == f"{SLUG}-api"
    assert autoscaler["spec"]["minReplicas"] >= 2
    [budget] = _named(objects, "PodDisruptionBudget").values()
    assert budget["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    assert budget["spec"]["maxUnavailable"] == 1
    [service] = _named(objects, "Service").values()
    assert service["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]


def test_only_the_service_ports_take_connections(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    objects = _production(kubectl, projects.get(variant))
    policies = _named(objects, "NetworkPolicy").values()
    metrics_port = int(_config(objects)["METRICS_PORT"]) if variant.metrics else None

    def admitted(labels: dict[str, str]) -> set[int] | None:
        """The ports a pod with these labels takes connections on; None: every port."""
        selecting = [
            policy
            for policy in policies
            if policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
            and "Ingress" in policy["spec"]["policyTypes"]
        ]
        if not selecting:
            return None
        return {
            port["port"]
            for policy in selecting
            for rule in policy["spec"].get("ingress", [])
            for port in rule["ports"]
        }

    expected = {
        "api": {8000, *([metrics_port] if metrics_port else [])},
        "worker": {metrics_port} if metrics_port else set(),
    }
    for name, pod in _pods(objects):
        component = pod["metadata"]["labels"]["app.kubernetes.io/component"]
        assert admitted(pod["metadata"]["labels"]) == expected.get(component, set()), name
        annotations = pod["metadata"].get("annotations", {})
        if metrics_port and component in expected:
            assert annotations["prometheus.io/scrape"] == "true", name
            assert annotations["prometheus.io/port"] == str(metrics_port), name
            assert annotations["prometheus.io/path"] == "/metrics", name
        else:
            assert not any(key.startswith("prometheus.io/") for key in annotations), name


def test_the_readme_deploys_a_new_migration_job_for_each_release(
    kubectl: str, projects: Projects, variant: Variant
) -> None:
    """A Job cannot be changed: the deploy commands delete the finished one, then apply."""
    section = _readme_section(projects.get(variant))
    overlay = "deploy/kubernetes/overlays/production"

    delete = section.index(f"delete job {SLUG}-migrate --ignore-not-found")
    apply = section.index(f"kubectl apply -k {overlay}")
    assert delete < apply
    assert f"kubectl kustomize {overlay}" in section
