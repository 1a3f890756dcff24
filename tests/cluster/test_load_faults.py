"""The load and fault test: 50 clients for a minute (BUILDAPI_LOAD_SECONDS) through the proxy,
reads of every family and writes of several users, while an agent is SIGKILLed and started
again, a web worker is SIGKILLed and started again, RabbitMQ is restarted, and the database
drops every connection. No 5xx but retried 503s; every accepted job answered once."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from buildapi.cluster.nginx import add_user
from buildapi.cluster.processes import is_alive
from buildapi.db.engines import DATABASES, normalize_url
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import buildsets, selfserve_actions
from buildapi.vocabulary import REBUILT_BY, REQUESTED_BY
from tests.cluster.conftest import Cluster, pending_requests, read_targets
from tests.cluster.load import Client, PendingRequests, Record, WritePace
from tests.processes import wait_until

LOAD_SECONDS = float(os.environ.get("BUILDAPI_LOAD_SECONDS", "60"))
CLIENTS = 50
USERS = 8
WRITES_PER_SECOND = 5.0  # of all clients together
ANSWER_SECONDS = 120.0  # every accepted job is answered within this after the load stops


def kill_and_restart(cluster: Cluster, name: str) -> str:
    started = cluster.part(name)
    os.kill(started.pid, signal.SIGKILL)
    wait_until(lambda: not is_alive(started), 30, f"{name} to die")
    cluster.restart(name)
    return f"{name} SIGKILLed (pid {started.pid}) and started again"


def restart_broker(cluster: Cluster) -> str:
    cluster.restart("rabbitmq")
    return "RabbitMQ stopped and started again"


def drop_database_connections(cluster: Cluster) -> str:
    settings = cluster.settings()
    names = [normalize_url(settings.database_url(name)).database for name in DATABASES]
    engine = create_engine(normalize_url(settings.database_url("schedulerdb")))
    try:
        with engine.connect() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND datname = ANY(:names)"
                ),
                {"names": names},
            ).scalar_one()
    finally:
        engine.dispose()
    assert dropped > 0
    return f"{dropped} database connections terminated"


FAULTS: list[tuple[float, Callable[[Cluster], str]]] = [
    (0.15, lambda cluster: kill_and_restart(cluster, "agent-1")),
    (0.30, lambda cluster: kill_and_restart(cluster, "web-1")),
    (0.50, restart_broker),
    (0.70, drop_database_connections),
]


def inject_faults(cluster: Cluster, began: float, done: list[str]) -> list[threading.Thread]:
    """Each fault in a thread of its own at its time, so that a slow restart delays no other."""

    def inject(share: float, fault: Callable[[Cluster], str]) -> None:
        time.sleep(max(0.0, began + share * LOAD_SECONDS - time.monotonic()))  # its time
        done.append(f"{time.monotonic() - began:5.1f} s: {fault(cluster)}")

    threads = [threading.Thread(target=inject, args=fault) for fault in FAULTS]
    for thread in threads:
        thread.start()
    return threads


def refresh_pending(cluster: Cluster, pending: PendingRequests, stop: threading.Event) -> None:
    while not stop.wait(2.0):
        pending.update(pending_requests(cluster))


def run_load(cluster: Cluster) -> tuple[Record, list[str], float]:
    targets = read_targets(cluster)
    assert targets.build_ids and targets.revisions and targets.builders
    users = [f"load-{number}@example.com" for number in range(USERS)]
    passwords = {user: add_user(cluster.directory, user) for user in users}
    record, faults, stop = Record(), [], threading.Event()
    pace = WritePace(WRITES_PER_SECOND)
    clients = []
    for number in range(CLIENTS):
        user = users[number % USERS]
        http = httpx.Client(
            base_url=cluster.url,
            auth=(user, passwords[user]),
            headers={"Accept": "application/json"},
            timeout=30,
        )
        clients.append(Client(http, user, targets, record, random.Random(number), pace))
    threads = [threading.Thread(target=client.run, args=(stop,)) for client in clients]
    threads.append(threading.Thread(target=refresh_pending, args=(cluster, targets.pending, stop)))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    injectors = inject_faults(cluster, began, faults)
    try:
        stop.wait(LOAD_SECONDS)
    finally:
        stop.set()
        for thread in [*threads, *injectors]:
            thread.join(timeout=120)
        for client in clients:
            client.http.close()
    return record, faults, time.monotonic() - began


def unanswered(cluster: Cluster, job_ids: list[int]) -> list[int]:
    databases = cluster.databases()
    try:
        with databases.buildapi_db.connect() as connection:
            return list(
                connection.execute(
                    select(jobrequests.c.id).where(
                        jobrequests.c.id.in_(job_ids), jobrequests.c.completed_at.is_(None)
                    )
                ).scalars()
            )
    finally:
        databases.dispose()


def answers_and_effects(cluster: Cluster, job_ids: list[int]) -> tuple[dict, Counter, Counter]:
    """Each job's answer, the ledger's rows per job, and the self-serve buildsets per reason."""
    databases = cluster.databases()
    try:
        with databases.buildapi_db.connect() as connection:
            rows = connection.execute(
                select(jobrequests.c.id, jobrequests.c.complete_data).where(
                    jobrequests.c.id.in_(job_ids)
                )
            ).all()
        with databases.schedulerdb.connect() as connection:
            ledger = Counter(
                dict(
                    connection.execute(
                        select(selfserve_actions.c.job_id, func.count())
                        .where(selfserve_actions.c.job_id.in_(job_ids))
                        .group_by(selfserve_actions.c.job_id)
                    ).all()
                )
            )
            reasons = Counter(
                dict(
                    connection.execute(
                        select(buildsets.c.reason, func.count())
                        .where(buildsets.c.reason.like("Self-serve: % by load-%"))
                        .group_by(buildsets.c.reason)
                    ).all()
                )
            )
    finally:
        databases.dispose()
    answers = {job_id: json.loads(data)["body"] for job_id, data in rows if data}
    return answers, ledger, reasons


def expected_buildsets(record: Record, answers: dict) -> Counter:
    """What the jobs answered Ok must have made: a rebuild its count of buildsets, a new
    build one, each under a reason naming its user."""
    expected: Counter = Counter()
    for job_id, accepted in record.accepted.items():
        answer = answers.get(job_id, {})
        if answer.get("errors") is not False:
            continue
        if accepted.action == "rebuild_build":
            expected[f"{REBUILT_BY}{accepted.user}"] += accepted.count
        elif accepted.action == "new_build_for_builder":
            expected[f"{REQUESTED_BY}{accepted.user}"] += 1
    return expected


@pytest.mark.timeout(600)
def test_load_with_faults_loses_and_repeats_nothing(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    record, faults, seconds = run_load(cluster)
    job_ids = list(record.accepted)
    load_ended = time.monotonic()
    deadline = load_ended + ANSWER_SECONDS
    while unanswered(cluster, job_ids) and time.monotonic() < deadline:
        time.sleep(1.0)
    answered_after = time.monotonic() - load_ended
    lost = unanswered(cluster, job_ids)
    answers, ledger, reasons = answers_and_effects(cluster, job_ids)
    expected = expected_buildsets(record, answers)
    duplicated = {
        reason: reasons[reason] - expected[reason]
        for reason in set(reasons) | set(expected)
        if reasons[reason] != expected[reason]
    }
    answered = len(job_ids) - len(lost)
    actions = dict(Counter(accepted.action for accepted in record.accepted.values()))
    with capsys.disabled():
        print(f"\nload and faults: {CLIENTS} clients, {USERS} users, {LOAD_SECONDS:g} s")
        print("\n".join(faults))
        print(record.summary(seconds))
        print(
            f"accepted {len(job_ids)} jobs ({len(job_ids) / seconds:.1f}/s): {actions}; "
            f"answered {answered} ({answered / (seconds + answered_after):.1f}/s until the "
            f"last answer, {answered_after:.0f} s after the load); lost {len(lost)}; "
            f"ledger rows {sum(ledger.values())}; buildsets made minus answered {duplicated}"
        )
    assert len(faults) == len(FAULTS), faults
    assert record.server_errors == [], record.server_errors[:10]
    assert record.given_up == [], record.given_up[:10]
    assert job_ids, "no job was accepted"
    assert lost == [], f"{len(lost)} of {len(job_ids)} accepted jobs never answered: {lost[:20]}"
    assert all(count == 1 for count in ledger.values())
    assert duplicated == {}, f"buildsets made minus buildsets answered: {duplicated}"
    page = httpx.get(
        f"{cluster.url}/self-serve/jobs/{job_ids[-1]}?format=json",
        auth=(cluster.state.user, cluster.state.password),
        timeout=30,
    )
    assert page.json()["completed_at"] is not None
