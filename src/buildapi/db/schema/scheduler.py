"""The Buildbot 0.8 scheduler database, as a Buildbot 0.8.2 master creates it (schema version 6).

Masters own this database, so names, types, nullability and server-side defaults are the
master's: its statements leave columns out and rely on the database to fill them. Every id
column autoincrements (SQLite AUTOINCREMENT: ids are never reused), as the master's schema
upgrade makes them. Times are epoch seconds in INTEGER columns; SQLite keeps the fractions of
the `time.time()` floats masters write. There are no declared foreign keys (Buildbot has none).
Beyond the master's own indexes, the extra ones serve BuildAPI's queries (pending, running,
per revision, per day, wait times).
"""

from sqlalchemy import (
    DDL,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    event,
    text,
)

from buildapi.db.schema.types import prefix_index

# The schema version a Buildbot 0.8.2 master keeps in the one row of `version`.
SCHEMA_VERSION = 6
ZERO = text("0")

metadata = MetaData()

version = Table("version", metadata, Column("version", Integer, nullable=False))
# Masters refuse a database whose version table does not hold exactly one row.
event.listen(
    version, "after_create", DDL(f"INSERT INTO version (version) VALUES ({SCHEMA_VERSION})")
)

changes = Table(
    "changes",
    metadata,
    Column("changeid", Integer, primary_key=True, autoincrement=True),
    Column("author", String(1024), nullable=False),
    Column("comments", String(1024), nullable=False),
    Column("is_dir", SmallInteger, nullable=False, default=0),
    Column("branch", String(1024)),
    Column("revision", String(256)),
    Column("revlink", String(256)),
    Column("when_timestamp", Integer, nullable=False),
    Column("category", String(256)),
    Column("repository", Text, nullable=False, server_default=""),
    Column("project", Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)
prefix_index("changes_branch", changes.c.branch)
prefix_index("changes_revision", changes.c.revision, pattern=True)
prefix_index("changes_author", changes.c.author)
prefix_index("changes_category", changes.c.category)
Index("changes_when_timestamp", changes.c.when_timestamp)

change_files = Table(
    "change_files",
    metadata,
    Column("changeid", Integer, nullable=False),
    Column("filename", String(1024), nullable=False),
    Index("change_files_changeid", "changeid"),
)

change_links = Table(
    "change_links",
    metadata,
    Column("changeid", Integer, nullable=False),
    Column("link", String(1024), nullable=False),
    Index("change_links_changeid", "changeid"),
)

change_properties = Table(
    "change_properties",
    metadata,
    Column("changeid", Integer, nullable=False),
    Column("property_name", String(256), nullable=False),
    Column("property_value", String(1024), nullable=False),
    Index("change_properties_changeid", "changeid"),
)

schedulers = Table(
    "schedulers",
    metadata,
    Column("schedulerid", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("class_name", String(100), nullable=False),
    Column("state", String(1024), nullable=False),
    Index("schedulers_name_class", "name", "class_name", unique=True),
    sqlite_autoincrement=True,
)

scheduler_changes = Table(
    "scheduler_changes",
    metadata,
    Column("schedulerid", Integer),
    Column("changeid", Integer),
    Column("important", SmallInteger),
    Index("scheduler_changes_schedulerid", "schedulerid"),
    Index("scheduler_changes_changeid", "changeid"),
)

scheduler_upstream_buildsets = Table(
    "scheduler_upstream_buildsets",
    metadata,
    Column("buildsetid", Integer),
    Column("schedulerid", Integer),
    Column("active", SmallInteger),
    Index("scheduler_upstream_buildsets_buildsetid", "buildsetid"),
    Index("scheduler_upstream_buildsets_schedulerid", "schedulerid"),
    Index("scheduler_upstream_buildsets_active", "active"),
)

sourcestamps = Table(
    "sourcestamps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(256)),
    Column("revision", String(256)),
    Column("patchid", Integer),
    Column("repository", Text, nullable=False, server_default=""),
    Column("project", Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)
prefix_index("sourcestamps_branch", sourcestamps.c.branch)
prefix_index("sourcestamps_revision", sourcestamps.c.revision, pattern=True)

sourcestamp_changes = Table(
    "sourcestamp_changes",
    metadata,
    Column("sourcestampid", Integer, nullable=False),
    Column("changeid", Integer, nullable=False),
    Index("sourcestamp_changes_sourcestampid", "sourcestampid", "changeid"),
    Index("sourcestamp_changes_changeid", "changeid"),
)

patches = Table(
    "patches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patchlevel", Integer, nullable=False),
    Column("patch_base64", Text, nullable=False),
    Column("subdir", Text),
    sqlite_autoincrement=True,
)

buildsets = Table(
    "buildsets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("external_idstring", String(256)),
    Column("reason", String(256)),
    Column("sourcestampid", Integer, nullable=False),
    Column("submitted_at", Integer, nullable=False),
    Column("complete", SmallInteger, nullable=False, server_default=ZERO),
    Column("complete_at", Integer),
    Column("results", SmallInteger),
    Index("buildsets_complete", "complete"),
    Index("buildsets_submitted_at", "submitted_at"),
    Index("buildsets_sourcestampid", "sourcestampid"),
    sqlite_autoincrement=True,
)

buildset_properties = Table(
    "buildset_properties",
    metadata,
    Column("buildsetid", Integer, nullable=False),
    Column("property_name", String(256), nullable=False),
    # JSON of a two-element list [value, source], as Buildbot writes it.
    Column("property_value", String(1024), nullable=False),
    Index("buildset_properties_buildsetid", "buildsetid"),
)

buildrequests = Table(
    "buildrequests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("buildsetid", Integer, nullable=False),
    Column("buildername", String(256), nullable=False),
    Column("priority", Integer, nullable=False, server_default=ZERO),
    Column("claimed_at", Integer, server_default=ZERO),
    Column("claimed_by_name", String(256)),
    Column("claimed_by_incarnation", String(256)),
    Column("complete", Integer, server_default=ZERO),
    Column("results", SmallInteger),
    Column("submitted_at", Integer, nullable=False),
    Column("complete_at", Integer),
    Index("buildrequests_buildsetid", "buildsetid"),
    # Pending is `complete = 0 AND claimed_at = 0`; running adds `claimed_at > 0`.
    Index("buildrequests_complete_claimed_at", "complete", "claimed_at"),
    # The master's claim looks for `claimed_at < <an hour ago>` across builders.
    Index("buildrequests_claimed_at", "claimed_at"),
    Index("buildrequests_submitted_at", "submitted_at"),
    Index("buildrequests_complete_at", "complete_at"),
    sqlite_autoincrement=True,
)
prefix_index("buildrequests_buildername", buildrequests.c.buildername)
prefix_index("buildrequests_claimed_by_name", buildrequests.c.claimed_by_name)

builds = Table(
    "builds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", Integer, nullable=False),
    Column("brid", Integer, nullable=False),
    Column("start_time", Integer, nullable=False),
    Column("finish_time", Integer),
    Index("builds_number", "number"),
    Index("builds_brid", "brid"),
    Index("builds_start_time", "start_time"),
    Index("builds_finish_time", "finish_time"),
    sqlite_autoincrement=True,
)

# Not Buildbot's: the self-serve agent's record of the job requests it carried out, written in
# the same transaction as their effect, so a redelivered request never acts twice.
selfserve_actions = Table(
    "selfserve_actions",
    metadata,
    Column("job_id", Integer, primary_key=True, autoincrement=False),
    Column("action", String(32), nullable=False),
    Column("done_at", Integer, nullable=False),
    Column("errors", SmallInteger, nullable=False),
    Column("msg", Text, nullable=False),
)
