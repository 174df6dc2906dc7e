"""The domains hold no Jinja: a feature plugs into them through the seams (api.py,
extensions.py), so the code it plugs into is the same in every variant."""

from .releases import TEMPLATE_ROOT

PACKAGE_SOURCE = TEMPLATE_ROOT / "template" / "src" / "{{ package_name }}"
#: Where no feature may leave a trace: the domains, and the worker's tasks.
FEATURE_FREE = ["auth", "users", "admin", "core/*.py", "{% if celery %}worker{% endif %}/tasks.py"]
JINJA = ("{{", "{%", "{#")


def test_the_domains_are_plain_python_in_every_variant() -> None:
    paths = [path for pattern in FEATURE_FREE for path in PACKAGE_SOURCE.glob(pattern)]
    files = [file for path in paths for file in ([path] if path.is_file() else path.rglob("*"))]
    templated = [
        str(file.relative_to(PACKAGE_SOURCE))
        for file in files
        if file.is_file()
        and (file.suffix == ".jinja" or any(mark in file.read_text() for mark in JINJA))
    ]

    assert len(files) >= 30
    assert templated == []
