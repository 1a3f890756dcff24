"""A scheduler database a later Buildbot 0.8 master made (0.8.14: claims in
buildrequest_claims, version in migrate_version) is refused in one line when the web and the
agent start. Made by the real 0.8.14 `create-master`, on MariaDB (its SQLite migrations need an
older SQLite than this machine's)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from buildapi.agent.buildbot08 import Buildbot08Backend
from buildapi.agent.dispatcher import SCHEMA_ERROR, Dispatcher
from buildapi.agent.ledger import Ledger
from buildapi.agent.masters import MastersClient
from buildapi.cli import main
from buildapi.clock import SystemClock
from buildapi.config import load_settings
from buildapi.db.compatibility import check_scheduler_schema
from buildapi.db.engines import normalize_url
from buildapi.db.schema import scheduler_metadata
from buildapi.errors import UnsupportedSchema
from buildapi.layout import load_layout
from buildapi.selfserve.messages import JobRequest
from tests.realmaster.harness import buildbot_db_url, buildbot_env, check
from tests.services import service_url

REFUSAL = "buildapi: the scheduler database has a later Buildbot's schema (table migrate_version)"


@pytest.fixture(scope="module")
def later_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database 0.8.14's `buildbot create-master` made. It forces MyISAM, whose keys must fit
    in 1000 bytes, so the database is utf8 (three bytes a character)."""
    server = normalize_url(service_url("mysql"))
    name = f"buildapi_t_later_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8"))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        basedir = tmp_path_factory.mktemp("later") / "master"
        created = subprocess.run(
            [
                str(buildbot_env("0.8.14") / "bin" / "buildbot"),
                "create-master",
                "--quiet",
                f"--db={buildbot_db_url(url)}",
                str(basedir),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        check(created, "buildbot 0.8.14 create-master")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def test_the_later_schema_is_what_the_refusal_names(later_database: str) -> None:
    engine = create_engine(normalize_url(later_database))
    inspector = inspect(engine)
    assert {"migrate_version", "buildrequest_claims"} <= set(inspector.get_table_names())
    assert "claimed_at" not in {column["name"] for column in inspector.get_columns("buildrequests")}
    with pytest.raises(UnsupportedSchema, match="later Buildbot's schema"):
        check_scheduler_schema(engine)
    engine.dispose()


@pytest.mark.parametrize("command", ["web", "agent"])
def test_web_and_agent_refuse_it_in_one_line(
    later_database: str, command: str, tmp_path: Path
) -> None:
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0  # its own statusdb, buildapi_db
    env = {
        **os.environ,
        "BUILDAPI_SCHEDULERDB_URL": later_database,
        "BUILDAPI_BROKER_URL": "amqp://guest:guest@127.0.0.1:1//",
    }
    result = subprocess.run(
        [sys.executable, "-m", "buildapi.cli", command, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(REFUSAL)


@pytest.mark.parametrize("with_markers", [True, False])
def test_a_job_on_it_is_answered_with_the_schema_error(
    later_database: str, with_markers: bool, tmp_path: Path
) -> None:
    """An agent that could not check at start (the database was down) meets the later schema
    in its first statement: the job gets an error answer instead of coming back forever."""
    engine = create_engine(normalize_url(later_database))
    markers = scheduler_metadata.tables["selfserve_actions"]
    markers.drop(engine, checkfirst=True)
    if with_markers:
        markers.create(engine)
    settings = load_settings(data_dir=tmp_path)
    with MastersClient(5.0, "http://127.0.0.1:1/clobberer") as masters:
        layout = load_layout(settings)
        backend = Buildbot08Backend(layout, masters)
        dispatcher = Dispatcher(Ledger(engine, SystemClock()), backend, layout)
        cancel = JobRequest(request_id=7, action="cancel_request", who="me", when=0,
                            args={"brid": 1})  # fmt: skip
        outcome = dispatcher.perform(cancel)
    assert outcome.errors and outcome.msg.startswith(SCHEMA_ERROR), outcome
    assert dispatcher.perform(cancel) == outcome
    engine.dispose()
