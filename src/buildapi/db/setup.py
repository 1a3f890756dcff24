"""Create the schemas (`buildapi db init`) and migrate BuildAPI's own database (`db upgrade`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, inspect

from buildapi.db.engines import Databases
from buildapi.db.schema import scheduler_metadata, status_metadata


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "buildapi.db:migrations")
    return config


def upgrade_buildapi_db(engine: Engine) -> str:
    """Migrate the buildapi db to the newest revision and return that revision."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return ScriptDirectory.from_config(config).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def init_databases(databases: Databases) -> None:
    """Create every missing table on all three databases; existing tables and rows are kept.
    Tables a master created get the indexes BuildAPI's queries need."""
    for metadata, engine in (
        (scheduler_metadata, databases.schedulerdb),
        (status_metadata, databases.statusdb),
    ):
        metadata.create_all(engine)
        add_missing_indexes(metadata, engine)
    upgrade_buildapi_db(databases.buildapi_db)


def add_missing_indexes(metadata: MetaData, engine: Engine) -> list[str]:
    """Create each declared index whose columns no existing index of its table starts with
    (a master's database has its own indexes, under its own names); the names created."""
    inspector = inspect(engine)
    created = []
    for table in metadata.sorted_tables:
        existing = inspector.get_indexes(table.name)
        names = {index["name"] for index in existing}
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            columns = [column.name for column in index.columns]
            covered = any(found["column_names"][: len(columns)] == columns for found in existing)
            if covered or index.name in names:
                continue
            index.create(engine)
            created.append(str(index.name))
    return created
