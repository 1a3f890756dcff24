"""The `buildapi` command as a user runs it."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from buildapi import __version__
from buildapi.cli import main
from tests.processes import free_port, running


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildapi.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.strip() == f"buildapi {__version__}"
    help_text = run_cli("--help").stdout
    commands = ("demo", "farm", "web", "dumps", "db", "token", "agent", "mail-waittimes")
    for command in commands:
        assert command in help_text


def test_db_init_twice_then_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "buildapi_db: at revision 0004" in out
    assert sorted(path.name for path in tmp_path.glob("*.sqlite")) == [
        "buildapi_db.sqlite",
        "schedulerdb.sqlite",
        "statusdb.sqlite",
    ]


def test_bad_flag_values_are_cli_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--speed", "0"])
    assert exited.value.code == 2
    assert "--speed: must be greater than 0" in capsys.readouterr().err


def test_unreachable_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('schedulerdb_url = "postgresql://u:p@127.0.0.1:1/x"\n', encoding="utf-8")
    assert main(["db", "init", "--config", str(config), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("buildapi: database error:")


def test_demo_serves_the_landing_page(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "demo-data"
    args = ["demo", "--port", str(port), "--data-dir", str(data), "--seed", "7"]
    with running(args) as (_process, output):
        assert any(f"http://127.0.0.1:{port}/" in line for line in output)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "<h1>BuildAPI</h1>" in page.text
        health = httpx.get(f"http://127.0.0.1:{port}/healthz?format=json", timeout=10)
        assert health.json()["status"] == "OK"
        # The demo's token acts; the address the client claims is not what the audit log says.
        token = output[output.index(next(line for line in output if "API token" in line)) + 1]
        with sqlite3.connect(data / "schedulerdb.sqlite") as connection:
            query = "SELECT revision FROM sourcestamps WHERE branch = 'try' LIMIT 1"
            (revision,) = connection.execute(query).fetchone()
        claimed = httpx.post(
            f"http://127.0.0.1:{port}/self-serve/try/rev/{revision}",
            headers={"Accept": "application/json", "X-Forwarded-For": "6.6.6.6"},
            auth=("demo@example.com", token.strip()),
            timeout=10,
        )
        assert claimed.status_code == 202, claimed.text
        line = output.wait_for(f"job {claimed.json()['request_id']}: ", timeout=30)
        assert "(token) from 127.0.0.1: " in line and "6.6.6.6" not in line
    assert (data / "schedulerdb.sqlite").exists()


@pytest.mark.parametrize("command", ["demo", "web"])
def test_a_taken_port_is_one_line_and_changes_nothing(tmp_path: Path, command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "data"
        arguments = [command, "--port", str(port), "--data-dir", str(data)]
        finished = subprocess.run(
            [sys.executable, "-m", "buildapi.cli", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert finished.returncode == 1, finished.stderr
    assert finished.stdout == ""
    assert finished.stderr.splitlines() == [
        f"buildapi: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert not data.exists(), "the databases were touched"


@pytest.mark.parametrize(
    ("arguments", "env"),
    [(["--workers", "2"], {}), ([], {"BUILDAPI_WEB_WORKERS": "3"})],
    ids=["flag", "config"],
)
def test_several_web_workers_refuse_the_memory_broker_in_one_line(
    tmp_path: Path, arguments: list[str], env: dict[str, str]
) -> None:
    """Each worker would have its own in-process broker, which no agent can reach."""
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    finished = subprocess.run(
        [sys.executable, "-m", "buildapi.cli", "web", "--data-dir", str(tmp_path), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    workers = arguments[1] if arguments else env["BUILDAPI_WEB_WORKERS"]
    assert finished.returncode == 2, finished.stderr
    assert finished.stdout == ""
    assert finished.stderr.splitlines() == [
        f"buildapi web: {workers} workers cannot share the in-process broker of broker_url = "
        "memory://; set broker_url to amqp://... or run one worker"
    ]


def test_web_workers_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        arguments = ["web", "--workers", "2", "--port", str(port), "--data-dir", str(tmp_path)]
        finished = subprocess.run(
            [sys.executable, "-m", "buildapi.cli", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **AMQP},
        )
    assert (finished.returncode, finished.stdout) == (1, ""), finished.stderr
    assert finished.stderr.splitlines() == [
        f"buildapi: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_web_workers_must_be_a_positive_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["web", "--workers", "0"])
    assert exited.value.code == 2
    assert "--workers: must be greater than 0" in capsys.readouterr().err


def test_web_uses_the_same_data_dir_as_demo(tmp_path: Path) -> None:
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    port = free_port()
    with running(["web", "--port", str(port), "--data-dir", str(tmp_path)]):
        health = httpx.get(f"http://127.0.0.1:{port}/healthz?format=json", timeout=10)
        head = httpx.head(f"http://127.0.0.1:{port}/healthz?format=json", timeout=10)  # curl -I
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(health.content))
    assert health.status_code == 200
    assert health.json()["status"] == "OK"


def test_token_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from buildapi.config import load_settings
    from buildapi.db.engines import Databases
    from buildapi.selfserve.auth import identity_of_token

    data = ["--data-dir", str(tmp_path)]
    assert main(["db", "init", *data]) == 0
    assert (
        main(["token", "create", "--user", "rel@example.com", "--groups", "releng,qa", *data]) == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    databases = Databases.from_settings(load_settings(data_dir=tmp_path))
    try:
        found = identity_of_token(databases.buildapi_db, token)
        assert found is not None and found.user == "rel@example.com"
        assert found.groups == {"releng", "qa"}
        assert main(["token", "list", *data]) == 0
        listing = capsys.readouterr().out
        assert "rel@example.com" in listing and "releng,qa" in listing and "live" in listing
        assert token not in listing
        assert main(["token", "revoke", "1", *data]) == 0
        assert identity_of_token(databases.buildapi_db, token) is None
        assert main(["token", "revoke", "1", *data]) == 1
        assert "no live token with id 1" in capsys.readouterr().err
    finally:
        databases.dispose()


def test_token_and_agent_refuse_bad_input(tmp_path: Path) -> None:
    bad_user = run_cli("token", "create", "--user", "a:b", "--data-dir", str(tmp_path))
    assert bad_user.returncode == 2 and "not a usable user name" in bad_user.stderr
    bad_groups = run_cli(
        "token", "create", "--user", "a", "--groups", "x y", "--data-dir", str(tmp_path)
    )
    assert bad_groups.returncode == 2 and "comma-separated" in bad_groups.stderr
    agent = run_cli("agent", "--data-dir", str(tmp_path))
    assert agent.returncode == 2 and "memory://" in agent.stderr


@pytest.mark.parametrize("command", ["web", "agent"])
def test_web_and_agent_refuse_a_later_buildbot_schema(tmp_path: Path, command: str) -> None:
    """Buildbot 0.8.3 and later keep their schema version in migrate_version."""
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    with sqlite3.connect(tmp_path / "schedulerdb.sqlite") as connection:
        connection.execute("CREATE TABLE migrate_version (repository_id TEXT, version INTEGER)")
    env = {"BUILDAPI_BROKER_URL": "amqp://guest:guest@127.0.0.1:1//"}
    result = subprocess.run(
        [sys.executable, "-m", "buildapi.cli", command, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("buildapi: the scheduler database has a later Buildbot's schema")


# Every command but `demo` and `db init`, as a user would run it on the wrong directory.
USING_COMMANDS = {
    "token create": ["token", "create", "--user", "me@example.com"],
    "token list": ["token", "list"],
    "token revoke": ["token", "revoke", "1"],
    "db upgrade": ["db", "upgrade"],
    "web": ["web"],
    "agent": ["agent"],
    "farm": ["farm"],
    "farm history": ["farm", "history", "--days", "0.01", "--jobs-per-day", "100"],
    "dumps": ["dumps"],
    "mail-waittimes": ["mail-waittimes", "--to", "me@example.com", "--smtp", "127.0.0.1:1"],
}
AMQP = {"BUILDAPI_BROKER_URL": "amqp://guest:guest@127.0.0.1:1//"}  # past agent's memory:// check


@pytest.mark.parametrize("command", list(USING_COMMANDS))
def test_commands_refuse_a_data_dir_without_databases(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """`buildapi token create` run from another directory made an empty ./buildapi-data and
    printed a token the demo rejected: now it says where it looked, and creates nothing."""
    for name, value in AMQP.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "elsewhere"
    port = ["--port", str(free_port())] if command == "web" else []
    assert main([*USING_COMMANDS[command], *port, "--data-dir", str(data)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"buildapi: {command}: no databases in data directory {data.resolve()} "
        "(schedulerdb, statusdb, buildapi_db missing); run `buildapi db init` or `buildapi demo` "
        "with this --data-dir/--config first"
    )
    assert not data.exists()


def test_a_database_without_tables_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("schedulerdb", "statusdb", "buildapi_db"):
        sqlite3.connect(tmp_path / f"{name}.sqlite").close()
    assert main(["token", "create", "--user", "me@example.com", "--data-dir", str(tmp_path)]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("buildapi: token create: schedulerdb, statusdb, buildapi_db in data ")
    assert line.endswith("has no tables; run `buildapi db init` first")
    with sqlite3.connect(tmp_path / "buildapi_db.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_commands_say_which_databases_they_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["token", "list", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"buildapi token list: using data directory {tmp_path.resolve()}"
    )
    monkeypatch.setenv("BUILDAPI_SCHEDULERDB_URL", f"sqlite:///{tmp_path / 'schedulerdb.sqlite'}")
    assert main(["token", "list", "--data-dir", str(tmp_path)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("buildapi token list: using schedulerdb sqlite:///")
    assert "statusdb sqlite:///" in first and "buildapi_db sqlite:///" in first
