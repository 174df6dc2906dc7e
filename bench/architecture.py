"""The structure's figures, as docs/architecture.md records them ("Measured structure").

    uv run python -m bench.architecture

It renders the variant with every toggle on (`pg-celery-2fa-teams`) and counts, with `ast`, the
parameters of each function in its `router.py` and `service.py` modules; then it reads the
template's tree for the Jinja tags in `core/`'s Python and for the files outside a feature's
folder that carry the feature's condition. Nothing here is a test; no figure is asserted.
"""

import ast
import json
import re
import statistics
import tempfile
from pathlib import Path

from tests.conftest import BASE_ANSWERS, PACKAGE, TEMPLATE_ROOT, VARIANTS_FILE, render

VARIANT = "pg-celery-2fa-teams"
SOURCE = TEMPLATE_ROOT / "template" / "src" / "{{ package_name }}"
#: The four things a request's work is handed, by the annotations that name them.
HANDED = {
    "session": {"AsyncSession", "DbDep", "ReadDbDep"},
    "settings": {"Settings", "SettingsDep"},
    "audit": {"AuditTrail", "AuditTrailDep"},
    "outbox": {"Outbox", "OutboxDep"},
}
#: Each feature, and its folder in the template.
FEATURES = {"celery": "worker", "two_factor": "two_factor", "teams": "teams"}
JINJA_TAG = re.compile(r"\{\{|\{%")


def _names(node: ast.expr | None) -> set[str]:
    found = set()
    for part in ast.walk(node) if node is not None else ():
        if isinstance(part, ast.Name):
            found.add(part.id)
        elif isinstance(part, ast.Attribute):
            found.add(part.attr)
    return found


def functions(package: Path) -> list[tuple[str, int, set[str]]]:
    """Each function of the routers and services: its name, its parameters, what it is handed."""
    found = []
    for module in sorted([*package.rglob("router.py"), *package.rglob("service.py")]):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            arguments = node.args
            parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            parameters += [extra for extra in (arguments.vararg, arguments.kwarg) if extra]
            parameters = [p for p in parameters if p.arg not in {"self", "cls"}]
            annotations = set().union(*(_names(p.annotation) for p in parameters))
            handed = {thing for thing, names in HANDED.items() if annotations & names}
            name = f"{module.parent.name}/{module.name}:{node.name}"
            found.append((name, len(parameters), handed))
    return found


def repeated(package: Path) -> dict[str, int]:
    """What the repositories repeat, and the error classes kept in service modules."""
    repositories = "".join(path.read_text() for path in package.rglob("repository.py"))
    errors = 0
    for module in package.rglob("service.py"):
        for node in ast.parse(module.read_text()).body:
            errors += isinstance(node, ast.ClassDef) and node.name.endswith("Error")
    return {
        "repository constructors": repositories.count("def __init__(self, db: AsyncSession)"),
        "_rowcount helpers": repositories.count("def _rowcount("),
        "error classes in service.py modules": errors,
    }


def main() -> None:
    answers = next(v for v in json.loads(VARIANTS_FILE.read_text()) if v["id"] == VARIANT)
    answers = {key: value for key, value in answers.items() if key != "id"}
    with tempfile.TemporaryDirectory() as directory:
        project = render(Path(directory) / "project", {**BASE_ANSWERS, **answers}, skip_tasks=True)
        package = project / "src" / PACKAGE
        found = functions(package)
        copies = repeated(package)
    counts = [count for _, count, _ in found]
    largest = max(counts)
    print(f"Router and service functions of {VARIANT}: {len(found)}")
    print(f"  parameters: median {statistics.median(counts)}, largest {largest}")
    print("  largest:", ", ".join(name for name, count, _ in found if count == largest))
    print(f"  with 6 parameters or more: {sum(count >= 6 for count in counts)}")
    print(f"  handed 3 or more of {'/'.join(HANDED)}: {sum(len(h) >= 3 for *_, h in found)}")

    for what, count in copies.items():
        print(f"  {what}: {count}")

    core = [p for p in (SOURCE / "core").iterdir() if p.name.endswith((".py", ".py.jinja"))]
    tags = {path.name: len(JINJA_TAG.findall(path.read_text())) for path in core}
    config = tags["config.py.jinja"]
    print(f"Jinja tags in core/'s Python: {sum(tags.values())} ({config} in config.py)")

    files = [path for path in SOURCE.rglob("*") if path.is_file()]
    named = {str(path.relative_to(SOURCE)): path.read_text() for path in files}
    for feature, folder in FEATURES.items():
        inside = f"{{% if {feature} %}}{folder}{{% endif %}}"
        condition = re.compile(rf"\{{%-?\s*(?:el)?if\b[^%]*\b{feature}\b")
        outside = sorted(
            relative
            for relative, text in named.items()
            if inside not in Path(relative).parts and condition.search(f"{relative}\n{text}")
        )
        print(f"Files outside {folder}/ naming {feature}: {len(outside)}")
        for path in outside:
            print(f"  {path}")


if __name__ == "__main__":
    main()
