"""The status database a Buildbot status plugin fills: finished and running builds with their
slaves, masters and properties. Datetimes are naive UTC; property values are JSON text."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from buildapi.db.schema.types import PREFIX

metadata = MetaData()

masters = Table(
    "masters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(100), nullable=False, unique=True),
    Column("name", String(100)),
)

slaves = Table(
    "slaves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False),
    Index("slaves_name", "name"),
)

builders = Table(
    "builders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("master_id", Integer, nullable=False),
    Column("category", String(30)),
    Index("builders_name_master", "name", "master_id", unique=True),
    Index("builders_master_id", "master_id"),
    Index("builders_category", "category"),
)

builder_slaves = Table(
    "builder_slaves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("builder_id", Integer, nullable=False),
    Column("slave_id", Integer, nullable=False),
    Column("added", DateTime, nullable=False),
    Column("removed", DateTime),
    Index("builder_slaves_builder_id", "builder_id"),
    Index("builder_slaves_slave_id", "slave_id"),
)

master_slaves = Table(
    "master_slaves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slave_id", Integer, nullable=False),
    Column("master_id", Integer, nullable=False),
    Column("connected", DateTime, nullable=False),
    Column("disconnected", DateTime),
    Index("master_slaves_slave_id", "slave_id"),
    Index("master_slaves_master_id", "master_id"),
)

sourcestamps = Table(
    "sourcestamps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("branch", String(50)),
    Column("revision", String(50)),
    Column("patch_id", Integer),
    Index("sourcestamps_revision", "revision"),
    Index("sourcestamps_patch_id", "patch_id"),
)

builds = Table(
    "builds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("buildnumber", Integer, nullable=False),
    Column("builder_id", Integer, nullable=False),
    Column("slave_id", Integer, nullable=False),
    Column("master_id", Integer, nullable=False),
    Column("starttime", DateTime),
    Column("endtime", DateTime),
    Column("result", Integer),
    Column("reason", String(500)),
    Column("source_id", Integer),
    Column("lost", Boolean, nullable=False, default=False),
    Index("builds_buildnumber", "buildnumber"),
    Index("builds_builder_id", "builder_id"),
    Index("builds_slave_id_starttime", "slave_id", "starttime"),
    Index("builds_master_id", "master_id"),
    Index("builds_starttime", "starttime"),
    Index("builds_endtime", "endtime"),
    Index("builds_result", "result"),
    Index("builds_source_id", "source_id"),
)

properties = Table(
    "properties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(40)),
    Column("source", String(40)),
    Column("value", Text),
    Index("properties_source", "source"),
    # MySQL indexes a prefix of the value; PostgreSQL btree rows have a size limit, so it gets
    # a hash index on the value alone (properties are deduplicated by equality lookups).
    Index("properties_name_value", "name", "value", mysql_length={"value": PREFIX}).ddl_if(
        dialect=("mysql", "mariadb", "sqlite")
    ),
    Index("properties_name", "name").ddl_if(dialect="postgresql"),
    Index("properties_value_hash", "value", postgresql_using="hash").ddl_if(dialect="postgresql"),
)

build_properties = Table(
    "build_properties",
    metadata,
    Column("property_id", Integer, nullable=False),
    Column("build_id", Integer, nullable=False),
    Index("build_properties_build_id", "build_id", "property_id"),
    Index("build_properties_property_id", "property_id"),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submittime", DateTime),
    Column("builder_id", Integer),
    Column("startcount", Integer, nullable=False, default=0),
    Column("source_id", Integer),
    Column("lost", Boolean, nullable=False, default=False),
    Column("cancelled", Boolean, nullable=False, default=False),
    Index("requests_builder_id", "builder_id"),
    Index("requests_source_id", "source_id"),
    Index("requests_submittime", "submittime"),
)

build_requests = Table(
    "build_requests",
    metadata,
    Column("build_id", Integer, nullable=False),
    Column("request_id", Integer, nullable=False),
    Index("build_requests_build_id", "build_id"),
    Index("build_requests_request_id", "request_id"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", Integer, nullable=False),
    Column("branch", String(50)),
    Column("revision", String(50)),
    Column("who", String(200)),
    Column("comments", Text),
    Column("when", DateTime),
    Index("changes_who", "who"),
)

source_changes = Table(
    "source_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", Integer, nullable=False),
    Column("change_id", Integer, nullable=False),
    Column("order", Integer, nullable=False),
    Index("source_changes_source_id", "source_id"),
    Index("source_changes_change_id", "change_id"),
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", String(400), nullable=False),
)

file_changes = Table(
    "file_changes",
    metadata,
    Column("file_id", Integer, nullable=False),
    Column("change_id", Integer, nullable=False),
    Index("file_changes_change_id", "change_id"),
)

patches = Table(
    "patches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patch", Text),
    Column("patchlevel", Integer),
)

steps = Table(
    "steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False),
    Column("description", Text),
    Column("build_id", Integer, nullable=False),
    Column("order", Integer, nullable=False),
    Column("starttime", DateTime),
    Column("endtime", DateTime),
    Column("status", Integer),
    Index("steps_build_id", "build_id"),
)

schedulerdb_requests = Table(
    "schedulerdb_requests",
    metadata,
    Column("status_build_id", Integer, nullable=False),
    Column("scheduler_request_id", Integer, nullable=False),
    Column("scheduler_build_id", Integer, nullable=False),
    Index("schedulerdb_requests_status_build_id", "status_build_id"),
    Index("schedulerdb_requests_scheduler_request_id", "scheduler_request_id"),
)
