"""`buildapi cluster` as a user runs it: what `up` says, `status`, a second `up`, the proxy in
front, the mailer and dumps running, and a failed `up` that stops what it had started."""

from __future__ import annotations

import email
import re
from pathlib import Path

import httpx
import psutil

from buildapi.cluster.nginx import add_user
from buildapi.cluster.state import load_state
from tests.cluster.conftest import Cluster, cluster_command, read_targets
from tests.processes import wait_until
from tests.services import service_url

PARTS = (
    "redis", "epmd", "rabbitmq", "postgresql", "mail-sink", "farm", "web-1", "web-2",
    "agent-1", "agent-2", "dumps", "mailer", "nginx",
)  # fmt: skip


def test_up_says_one_line_per_part_and_where_to_log_in(cluster: Cluster) -> None:
    lines = cluster.up_output.splitlines()
    for name in PARTS:
        started = cluster.part(name)
        assert any(re.match(rf"{name} +started +pid {started.pid}\b", line) for line in lines)
    state = cluster.state
    assert f"open {cluster.url}/ as {state.user}, password {state.password}" in lines


def test_status_lists_every_part_with_its_pid_and_port(cluster: Cluster) -> None:
    done = cluster_command("status", "--dir", str(cluster.directory))
    assert done.returncode == 0, done.stdout + done.stderr
    for name in PARTS:
        started = cluster.part(name)
        port = f" +port {started.part.port}" if started.part.port else ""
        assert re.search(rf"^{name} +answers +pid {started.pid}{port}", done.stdout, re.M), name


def test_up_again_says_it_is_already_up_and_starts_nothing(cluster: Cluster) -> None:
    before = {started.part.name: started.pid for started in cluster.state.started}
    done = cluster_command("up", "--dir", str(cluster.directory), "--port", str(cluster.port))
    assert done.returncode == 0, done.stderr
    assert f"already up in {cluster.directory}: 13 of 13 parts running" in done.stdout
    assert {started.part.name: started.pid for started in cluster.state.started} == before


def test_the_proxy_asks_for_a_password_and_tells_the_workers_who(cluster: Cluster) -> None:
    assert httpx.get(f"{cluster.url}/", timeout=30).status_code == 401
    password = add_user(cluster.directory, "carol@example.com")
    auth = ("carol@example.com", password)
    assert httpx.get(f"{cluster.url}/", auth=auth, timeout=30).status_code == 200
    build_id = read_targets(cluster).build_ids[0]
    rebuilt = httpx.post(
        f"{cluster.url}/self-serve/mozilla-inbound/build",
        data={"build_id": build_id},
        headers={"Accept": "application/json"},
        auth=auth,
        timeout=30,
    )
    assert rebuilt.status_code == 202, rebuilt.text
    job = httpx.get(
        f"{cluster.url}/self-serve/jobs/{rebuilt.json()['request_id']}?format=json",
        auth=auth,
        timeout=30,
    ).json()
    assert job["who"] == "carol@example.com"


def test_the_mailer_and_the_dumps_writer_run(cluster: Cluster) -> None:
    inbox = cluster.directory / "mail" / "new"
    wait_until(lambda: inbox.is_dir() and any(inbox.iterdir()), 60, "a wait-time mail")
    mail = email.message_from_bytes(next(inbox.iterdir()).read_bytes())
    assert mail["Subject"].startswith("Wait: ") and mail["To"] == "waittimes@localhost"
    state = cluster.state
    pending = httpx.get(
        f"{cluster.url}/builddata/buildjson/builds-pending.js",
        auth=(state.user, state.password),
        timeout=30,
    )
    assert pending.status_code == 200 and "pending" in pending.json()


def test_bad_requests_are_one_line(cluster: Cluster, tmp_path: Path) -> None:
    done = cluster_command("restart", "no-such-part", "--dir", str(cluster.directory))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("buildapi: no part 'no-such-part' in the cluster")
    done = cluster_command("status", "--dir", str(tmp_path))
    assert (done.returncode, done.stderr.strip()) == (
        1,
        f"buildapi cluster: no cluster in {tmp_path}",
    )
    done = cluster_command("down", "--dir", str(tmp_path))
    assert (done.returncode, done.stdout.strip()) == (
        0,
        f"no cluster in {tmp_path}; nothing to stop",
    )
    done = cluster_command("up", "--port", "0")
    assert done.returncode == 2 and "--port: not a port: '0'" in done.stderr


def test_a_failed_up_stops_what_it_had_started(tmp_path: Path) -> None:
    """The database server given cannot be reached: the servers started before that are
    stopped by their pids, and no state is left to stop."""
    service_url("cluster")
    bad = "postgresql://buildapi:x@127.0.0.1:1/nothing"
    args = ["--dir", str(tmp_path), "--broker-url", service_url("amqp"), "--database-url", bad]
    done = cluster_command("up", *args)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "database error" in done.stderr
    started = dict(re.findall(r"^(\S+) +started +pid (\d+)", done.stdout, re.M))
    assert {"redis", "mail-sink"} <= set(started), done.stdout
    for name, pid in started.items():
        assert re.search(rf"^{name} +stopped +pid {pid}\b", done.stdout, re.M), done.stdout
        assert not psutil.pid_exists(int(pid)) or psutil.Process(int(pid)).status() == "zombie"
    assert load_state(tmp_path) is None
