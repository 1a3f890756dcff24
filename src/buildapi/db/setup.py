"""Create the schemas (`buildapi db init`) and migrate BuildAPI's own database (`db upgrade`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, func, insert, inspect, select

from buildapi.db.engines import Databases
from buildapi.db.schema import scheduler_metadata, status_metadata
from buildapi.db.schema.scheduler import SCHEMA_VERSION, version


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
    add_missing_version_row(databases.schedulerdb)
    upgrade_buildapi_db(databases.buildapi_db)


def add_missing_version_row(engine: Engine) -> None:
    """A `version` table without its row was made by a BuildAPI from before it wrote one (a
    master always writes it); give it the row a 0.8.2 master needs."""
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(version)).scalar_one() == 0:
            connection.execute(insert(version).values(version=SCHEMA_VERSION))


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
