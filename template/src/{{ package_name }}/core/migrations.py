"""Whether the database is at the migrations' heads: what a new version of the service waits
for before it serves (`wait-for-migrations` in cli.py; the Kubernetes pods' init containers)."""

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

#: Alembic's configuration, as `alembic` finds it: in the directory the command runs in.
ALEMBIC_CONFIG = Path("alembic.ini")


def pending_migrations(connection: Connection, config: Path = ALEMBIC_CONFIG) -> list[str]:
    """The revisions `alembic upgrade heads` would apply to this database, newest first; none
    when it is at the heads. A revision the database has and the code does not know (a newer
    release migrated it) raises alembic's `RevisionError`.

    `alembic current --check-heads` cannot say it: it counts a branch that another depends on
    (accounts, under the features' branches) as a head the database must record, which it never
    does, so it fails on a database that is up to date."""
    script = ScriptDirectory.from_config(Config(str(config)))
    applied = MigrationContext.configure(connection).get_current_heads()
    return [
        revision.revision
        for revision in script.iterate_revisions("heads", applied, implicit_base=True)
    ]
