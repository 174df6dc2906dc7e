"""The template's releases: the record of which commit each one is, and a clone tagged from it.

`copier update` finds releases by their git tags, and a fresh clone may carry none; the record in
`releases.toml` is what the tests rebuild them from.
"""

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

from packaging.version import Version

TEMPLATE_ROOT = Path(__file__).parent.parent
RELEASES_FILE = TEMPLATE_ROOT / "releases.toml"
CHANGELOG = TEMPLATE_ROOT / "CHANGELOG.md"

#: A release's heading in CHANGELOG.md: `## [0.1.0] - 2026-11-28`.
CHANGELOG_RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\] - (?P<date>\d{4}-\d{2}-\d{2})$", re.M)


def recorded_releases() -> dict[Version, str]:
    """Every recorded release and its commit, oldest first."""
    record = tomllib.loads(RELEASES_FILE.read_text())["releases"]
    return {Version(version): commit for version, commit in sorted(record.items(), key=_version)}


def changelog_releases() -> list[Version]:
    """The releases CHANGELOG.md has a section for, in the order it lists them."""
    return [
        Version(match["version"]) for match in CHANGELOG_RELEASE.finditer(CHANGELOG.read_text())
    ]


def last_releases(count: int = 3) -> list[Version]:
    """The newest `count` releases: the ones the update tier starts from."""
    return list(recorded_releases())[-count:]


def _version(item: tuple[str, str]) -> Version:
    return Version(item[0])


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def tagged_clone(destination: Path) -> Path:
    """A clone of the template with a tag for every recorded release, and one commit on top that
    holds the working tree as it is (uncommitted changes included): its HEAD is what a user
    would update to from the development tip."""
    _git("clone", "--quiet", "--no-tags", str(TEMPLATE_ROOT), str(destination), cwd=TEMPLATE_ROOT)
    for version, commit in recorded_releases().items():
        _git("tag", str(version), commit, cwd=destination)
    # Lay the working tree over the clone: tracked files as they are now, new files that git
    # does not ignore, and nothing that was deleted.
    _git("rm", "-r", "--quiet", "--cached", ".", cwd=destination)
    for entry in destination.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=TEMPLATE_ROOT)
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git("add", "--all", cwd=destination)
    _git(
        *("-c", "user.name=Template tests", "-c", "user.email=tests@example.com"),
        *("commit", "--quiet", "--allow-empty", "-m", "The working tree under test"),
        cwd=destination,
    )
    return destination
