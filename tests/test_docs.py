"""Docs tier: every file a document names exists, every `uv run` command it shows runs a tool,
a module or a CLI command the project has, and every `make` job it names is a job of its Makefile.

The template's own pages (README.md, docs/) name files of the template and of a service it
renders; each variant's README names files of that variant. Paths are read from code (inline
spans and blocks), where a reader copies them from.
"""

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from .conftest import (
    PACKAGE,
    TEMPLATE_ROOT,
    Project,
    Projects,
    Variant,
    project_env,
    run,
    variant_params,
)

#: Where a named path may start: the template's top level and a rendered service's.
ROOTS = {
    *(".ci", ".github", "bench", "deploy", "docs", "hooks", "includes", "migrations", "src"),
    *("template", "tests"),
}
#: Domains the docs invent to show how a service grows its own: their files are examples.
EXAMPLE_DOMAINS = {"billing", "orders", "projects", "reports"}
#: How the template's pages write the package of a rendered service.
PACKAGE_PLACEHOLDERS = ("<package>", "{{ package_name }}")
#: A code span or a code block's body.
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.DOTALL)
PATH = re.compile(r"(?<![\w/.:<{%-])(\.?[\w-]+(?:/[\w.<>{}*-]+)+/?)")
UV_RUN = re.compile(r"uv run (?!--)(\S+)(.*)")
#: A job of the generated project's Makefile, at the start of a code span or a block's line.
MAKE_JOB = re.compile(r"^\s*make ([a-z][\w-]*)", re.MULTILINE)
#: Prints each module named on its command line, and whether it can be imported.
FIND_MODULES = """import importlib.util, sys
for name in sys.argv[1:]:
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package is missing
        found = False
    print(name, found)"""

TEMPLATE_PAGES = [TEMPLATE_ROOT / "README.md", *sorted((TEMPLATE_ROOT / "docs").glob("*.md"))]


def _code(text: str) -> list[str]:
    return [block or span for block, span in CODE.findall(text)]


def _named_paths(text: str) -> set[str]:
    named = set()
    for code in _code(text):
        for path in PATH.findall(code):
            for placeholder in PACKAGE_PLACEHOLDERS:
                path = path.replace(placeholder, PACKAGE)
            parts = set(path.strip("/").split("/"))
            if path.split("/")[0] in ROOTS and not parts & EXAMPLE_DOMAINS and "<" not in path:
                named.add(path.rstrip("/").removesuffix("*").rstrip("/"))
    return named


def _missing(paths: Iterable[str], roots: Iterable[Path]) -> list[str]:
    roots = list(roots)
    return sorted(path for path in paths if not any((root / path).exists() for root in roots))


def _commands(text: str) -> list[str]:
    return [
        f"{tool}{rest}".split("#")[0].strip()
        for code in _code(text)
        for tool, rest in UV_RUN.findall(code)
    ]


def _modules(command: list[str]) -> list[str]:
    """The modules a command names: `python -m M`, `uvicorn M:app`, `celery -A M`,
    `gunicorn -c python:M N:app`."""
    tool, *args = command
    if tool == "python" and args[:1] == ["-m"]:
        return [args[1]]
    if tool == "uvicorn":
        return [args[0].split(":")[0]]
    if tool == "gunicorn":
        named = [arg for arg in args if arg.startswith("python:") or arg.endswith(":app")]
        return [arg.removeprefix("python:").split(":")[0] for arg in named]
    if tool == "celery" and args[:1] == ["-A"]:
        return [args[1]]
    return []


def _in_the_template(module: str) -> bool:
    """Whether `module` is one of the template's own (its benchmark, say)."""
    path = TEMPLATE_ROOT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _template_has(tool: str) -> bool:
    """Whether the template's own environment, where these tests run, has `tool`."""
    return Path(sys.executable).with_name(tool).exists()


def _unknown_commands(project: Project, texts: Iterable[str], *, template: bool) -> list[str]:
    """Each `uv run` command of `texts` whose tool, module or CLI command the project lacks (nor,
    with `template`, the template's own environment: its pages show commands of both)."""
    commands = sorted({command for text in texts for command in _commands(text)})
    assert commands, "no `uv run` command was found: the pattern no longer matches the docs"
    slug = project.variant.answers.get("project_slug", PACKAGE.replace("_", "-"))
    cli_help = run(project.bin(slug), "--help", cwd=project.path, env=project_env(COLUMNS="200"))
    cli_help = cli_help.stdout
    unknown = []
    modules: dict[str, str] = {}
    for command in commands:
        tool, *args = command.replace("<package>", PACKAGE).split()
        if not (project.bin(tool).exists() or (template and _template_has(tool))):
            unknown.append(f"{command}: no {tool} in the project's environment")
        elif tool == slug and re.fullmatch("[a-z-]+", args[0]) and args[0] not in cli_help:
            unknown.append(f"{command}: the CLI has no command {args[0]}")
        modules.update((module, command) for module in _modules([tool, *args]))
    found = run(project.bin("python"), "-c", FIND_MODULES, *modules, cwd=project.path).stdout
    unknown += [
        f"{modules[module]}: no module {module}"
        for module, exists in (line.split() for line in found.splitlines())
        if exists == "False" and not (template and _in_the_template(module))
    ]
    return unknown


def _unknown_jobs(project: Project, text: str) -> list[str]:
    """Each `make <job>` of `text` that the project's Makefile does not list in `make help`."""
    named = {job for code in _code(text) for job in MAKE_JOB.findall(code)}
    assert named, "no `make` job was found: the pattern no longer matches the docs"
    listed = run("make", "help", cwd=project.path).stdout
    return sorted(job for job in named if f"  make {job} " not in listed)


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """mkdocs.yml is strict: a link to a missing page or anchor, or a page left out of the
    navigation, fails the build."""
    # Material's notice about MkDocs 2 goes to the terminal on every build; the build's own
    # warnings are what strict mode counts.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    run(
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--site-dir",
        tmp_path,
        cwd=TEMPLATE_ROOT,
        env=env,
    )

    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "testing" / "index.html").is_file()


ALL_ON = next(param for param in variant_params() if param.id == "pg-celery-2fa-teams")


@pytest.mark.parametrize("variant", [ALL_ON])
def test_the_template_pages_name_only_files_and_commands_that_exist(
    projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    texts = [page.read_text() for page in TEMPLATE_PAGES]
    named = set().union(*map(_named_paths, texts))

    assert {"hooks/env_file.py", f"src/{PACKAGE}/domains.py"} <= named, "the path pattern misses"
    assert _missing(named, [TEMPLATE_ROOT, project.path]) == []
    assert _unknown_commands(project, texts, template=True) == []


@pytest.mark.parametrize("variant", variant_params())
def test_the_readme_names_only_files_and_commands_that_exist(
    projects: Projects, variant: Variant
) -> None:
    project = projects.get(variant)
    readme = (project.path / "README.md").read_text()
    named = _named_paths(readme)

    assert f"src/{PACKAGE}/domains.py" in named, "the path pattern misses"
    assert _missing(named, [project.path]) == []
    assert _unknown_commands(project, [readme], template=False) == []
    assert _unknown_jobs(project, readme) == []
