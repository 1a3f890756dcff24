"""Table definitions, one MetaData per database."""

from buildapi.db.schema.buildapi import metadata as buildapi_metadata
from buildapi.db.schema.scheduler import metadata as scheduler_metadata
from buildapi.db.schema.status import metadata as status_metadata

# Database name (as in Settings.database_url) -> its tables.
METADATA = {
    "schedulerdb": scheduler_metadata,
    "statusdb": status_metadata,
    "buildapi_db": buildapi_metadata,
}

__all__ = ["METADATA", "buildapi_metadata", "scheduler_metadata", "status_metadata"]
