"""Create the schemas (`buildapi db init`) and migrate BuildAPI's own database (`db upgrade`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

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
    """Create every missing table on all three databases; existing tables and rows are kept."""
    scheduler_metadata.create_all(databases.schedulerdb)
    status_metadata.create_all(databases.statusdb)
    upgrade_buildapi_db(databases.buildapi_db)
