"""Releases: the record of release commits, the CHANGELOG and the tags rebuilt from them agree."""

import subprocess
from pathlib import Path

from .releases import (
    TEMPLATE_ROOT,
    changelog_releases,
    recorded_releases,
    tagged_clone,
)


def test_every_release_has_a_changelog_section_and_every_section_a_release() -> None:
    recorded = list(recorded_releases())
    listed = changelog_releases()

    assert recorded, "releases.toml records no release"
    assert sorted(listed) == recorded
    # Newest first, as Keep a Changelog lists them.
    assert listed == sorted(listed, reverse=True)


def test_every_recorded_commit_is_in_the_history() -> None:
    missing = [
        f"{version} = {commit}"
        for version, commit in recorded_releases().items()
        if subprocess.run(
            ["git", "merge-base", "--is-ancestor", commit, "HEAD"],
            cwd=TEMPLATE_ROOT,
            capture_output=True,
            check=False,
        ).returncode
        != 0
    ]

    assert missing == [], "recorded commits that HEAD does not descend from (a shallow clone?)"


def test_the_tagged_clone_has_every_release_and_the_working_tree_on_top(tmp_path: Path) -> None:
    clone = tagged_clone(tmp_path / "template")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=clone, check=True, capture_output=True, text=True
        ).stdout

    for version, commit in recorded_releases().items():
        assert git("rev-parse", f"{version}^{{commit}}").strip() == commit
    assert git("status", "--porcelain") == ""
    assert (clone / "copier.yml").read_text() == (TEMPLATE_ROOT / "copier.yml").read_text()
    assert (clone / "releases.toml").read_text() == (TEMPLATE_ROOT / "releases.toml").read_text()


#: The template's file that a service's own domains are written into: it promises never to
#: change once shipped, so that an update never conflicts there (docs/updating.md).
DOMAINS = "template/src/{{ package_name }}/domains.py"


def test_every_release_shipped_domains_py_as_the_working_tree_has_it() -> None:
    current = (TEMPLATE_ROOT / DOMAINS).read_text()
    shipped = {
        str(version): subprocess.run(
            ["git", "show", f"{commit}:{DOMAINS}"],
            cwd=TEMPLATE_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        for version, commit in recorded_releases().items()
    }
    changed = [
        version
        for version, shown in shipped.items()
        if shown.returncode == 0 and shown.stdout != current
    ]

    assert any(shown.returncode == 0 for shown in shipped.values()), "no release has it yet"
    assert changed == [], "domains.py differs from what these releases shipped"
