"""The pipeline's promises under failure, against a real RabbitMQ (and PostgreSQL where a
lock is needed): no accepted job request is lost or carried out twice."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from buildapi.agent.launch import agent_in_background
from buildapi.db.engines import normalize_url
from buildapi.db.schema.scheduler import buildrequests, builds
from buildapi.selfserve.broker import DEAD, FINISHED, REQUESTS, Broker
from buildapi.selfserve.messages import JobRequest
from buildapi.selfserve.queues import retry_key
from tests.databases import database_urls
from tests.pipeline.conftest import (
    BRANCH,
    USER,
    Farmed,
    a_build,
    markers,
    post_rebuild,
    rebuilt,
    seeded_farm,
    settings_env,
    web_client,
)
from tests.processes import Output, free_port, running, wait_until
from tests.services import required, service_url
from tests.tokens import make_token


def rabbitmqctl(*args: str) -> None:
    if shutil.which("rabbitmqctl") is None:
        reason = "rabbitmqctl not on PATH; the broker-restart test needs it"
        pytest.fail(reason) if required() else pytest.skip(reason)
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def test_broker_restart_between_accept_and_delivery(tmp_path: Path) -> None:
    with (
        seeded_farm(tmp_path, broker_url=service_url("amqp")) as farmed,
        web_client(farmed) as (client, headers),
    ):
        before = rebuilt(farmed)
        queued = post_rebuild(client, headers, a_build(farmed), 2)  # taken, nobody consumes
        rabbitmqctl("stop_app")
        try:
            # While the broker is down, requests are still accepted and recorded.
            held = post_rebuild(client, headers, a_build(farmed), 1)
            assert farmed.job(held).state == "recorded"
        finally:
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
        with agent_in_background(farmed.settings, farmed.databases, farmed.layout):
            assert farmed.wait_for_job(queued, timeout=60)["errors"] is False
            assert farmed.wait_for_job(held, timeout=60)["errors"] is False
        assert rebuilt(farmed) == before + 3
        assert markers(farmed, queued) == markers(farmed, held) == 1


def test_a_message_delivered_twice_acts_once(tmp_path: Path) -> None:
    with (
        seeded_farm(tmp_path, broker_url=service_url("amqp")) as farmed,
        web_client(farmed) as (client, headers),
    ):
        before = rebuilt(farmed)
        job_id = post_rebuild(client, headers, a_build(farmed), 2)
        row = farmed.job(job_id)
        again = JobRequest(job_id, row.action, row.who, row.when, json.loads(row.what))
        broker = Broker(farmed.settings)
        broker.publish(REQUESTS, again.to_message())
        assert broker.queue_depths()[REQUESTS] == 2
        with agent_in_background(farmed.settings, farmed.databases, farmed.layout):
            farmed.wait_for_job(job_id, timeout=30)
            wait_until(lambda: broker.queue_depths()[REQUESTS] == 0, 30, "both deliveries")
        broker.close()
        assert rebuilt(farmed) == before + 2


def test_two_agents_on_one_queue_handle_each_request_once(tmp_path: Path) -> None:
    with (
        seeded_farm(tmp_path, broker_url=service_url("amqp")) as farmed,
        web_client(farmed) as (client, headers),
    ):
        before = rebuilt(farmed)
        build_id = a_build(farmed)
        with (
            agent_in_background(farmed.settings, farmed.databases, farmed.layout),
            agent_in_background(farmed.settings, farmed.databases, farmed.layout),
        ):
            jobs = [post_rebuild(client, headers, build_id, 1) for _ in range(12)]
            answers = [farmed.wait_for_job(job_id, timeout=60) for job_id in jobs]
        assert all(answer == {"errors": False, "msg": "Ok"} for answer in answers)
        assert rebuilt(farmed) == before + 12
        assert all(markers(farmed, job_id) == 1 for job_id in jobs)


def test_web_killed_right_after_answering(tmp_path: Path) -> None:
    with seeded_farm(tmp_path, broker_url=service_url("amqp")) as farmed:
        token = make_token(farmed.databases, USER)
        port = free_port()
        before = rebuilt(farmed)
        env = settings_env(farmed.settings)
        with running(["web", "--port", str(port)], env=env) as (web, _output):
            response = httpx.post(
                f"http://127.0.0.1:{port}/self-serve/{BRANCH}/build",
                data={"build_id": a_build(farmed), "count": 1},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=30,
            )
            web.send_signal(signal.SIGKILL)
            web.wait(timeout=30)
        assert response.status_code == 202, response.text
        job_id = response.json()["request_id"]
        with (
            web_client(farmed),
            agent_in_background(farmed.settings, farmed.databases, farmed.layout),
        ):
            assert farmed.wait_for_job(job_id, timeout=60)["errors"] is False
        assert rebuilt(farmed) == before + 1


def waiting_on_locks(url: str) -> int:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
    finally:
        engine.dispose()


def test_agent_killed_mid_action_carries_it_out_exactly_once(tmp_path: Path) -> None:
    """The agent is stopped dead inside its transaction (blocked on a table lock the test
    holds, after it has written the job's marker and the new buildsets); the broker
    redelivers, and a new agent does the whole action once."""
    amqp = service_url("amqp")
    with (
        database_urls("postgresql", tmp_path) as urls,
        seeded_farm(
            tmp_path,
            broker_url=amqp,
            schedulerdb_url=urls["schedulerdb"],
            statusdb_url=urls["statusdb"],
            buildapi_db_url=urls["buildapi_db"],
        ) as farmed,
        web_client(farmed) as (client, headers),
    ):
        before = rebuilt(farmed)
        requests_before = farmed.count(buildrequests)
        locker = create_engine(normalize_url(urls["schedulerdb"]))
        with locker.connect() as lock:
            lock.execute(text("LOCK TABLE buildrequests IN EXCLUSIVE MODE"))
            with running(["agent"], env=settings_env(farmed.settings), ready="agent consuming") as (
                agent,
                _output,
            ):
                job_id = post_rebuild(client, headers, a_build(farmed), 3)
                wait_until(
                    lambda: waiting_on_locks(urls["schedulerdb"]) > 0, 30, "the agent to block"
                )
                agent.send_signal(signal.SIGKILL)
                agent.wait(timeout=30)
            lock.rollback()
        locker.dispose()
        assert farmed.job(job_id).completed_at is None
        with agent_in_background(farmed.settings, farmed.databases, farmed.layout):
            assert farmed.wait_for_job(job_id, timeout=60) == {"errors": False, "msg": "Ok"}
        assert rebuilt(farmed) == before + 3
        assert farmed.count(buildrequests) == requests_before + 3
        assert markers(farmed, job_id) == 1


def test_master_unreachable_on_cancel_reports_an_error_and_changes_nothing(
    tmp_path: Path,
) -> None:
    with seeded_farm(tmp_path) as farmed, web_client(farmed) as (client, headers):
        running_brid = farmed.scalar(
            select(buildrequests.c.id).where(
                buildrequests.c.complete == 0,
                buildrequests.c.claimed_at > 0,
                ~buildrequests.c.buildername.like("% test %"),
            )
        )
        build_id = farmed.scalar(select(builds.c.id).where(builds.c.brid == running_brid))
        farmed.server.stop()  # every master and the clobberer stop answering
        before = snapshot(farmed, running_brid)
        with agent_in_background(farmed.settings, farmed.databases, farmed.layout):
            response = client.delete(f"/self-serve/{BRANCH}/build/{build_id}", headers=headers)
            assert response.status_code == 202
            answer = farmed.wait_for_job(response.json()["request_id"])
        assert answer["errors"] is True and "Error cancelling build" in answer["msg"]
        assert snapshot(farmed, running_brid) == before


def snapshot(farmed: Farmed, brid: int) -> Any:
    with farmed.databases.schedulerdb.connect() as connection:
        request = connection.execute(select(buildrequests).where(buildrequests.c.id == brid)).one()
        build = connection.execute(select(builds).where(builds.c.brid == brid)).all()
    return tuple(request), [tuple(row) for row in build]


# The outbox sends again a job whose publish has not been marked within its period, which a
# loaded machine can make happen; the harmless copy would upset the counts of messages below.
QUIET_OUTBOX = 300.0


def assert_drained(farmed: Farmed, key: str) -> None:
    """Nothing left in `key`'s queue and its retry queue, and nothing dead-lettered."""
    broker = Broker(farmed.settings)
    try:
        wait_until(
            lambda: broker.queue_depths()[key] == broker.queue_depths()[retry_key(key)] == 0,
            30,
            f"the {key} queue and its retry queue drained",
        )
        assert broker.queue_depths()[DEAD] == 0
    finally:
        broker.close()


@contextlib.contextmanager
def scheduler_locked(farmed: Farmed) -> Iterator[None]:
    """A write lock on the SQLite scheduler database, held until the block ends."""
    with sqlite_locked(farmed.databases.schedulerdb.url.database):
        yield


@contextlib.contextmanager
def sqlite_locked(path: str | None) -> Iterator[None]:
    """A write lock on an SQLite database, held until the block ends: readers go on, writers
    wait `sqlite_busy_timeout_seconds` and then fail."""
    assert path, "an SQLite database file"
    lock = sqlite3.connect(path, isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        yield
        lock.execute("ROLLBACK")
    finally:
        lock.close()


def test_a_job_whose_agent_keeps_dying_ends_in_the_dead_letter_queue(tmp_path: Path) -> None:
    """Each agent takes the job and dies holding it (SIGKILL while it waits on the locked
    database); after the delivery limit the broker moves the job to the dead-letter queue, and
    the job behind it is carried out."""
    limit = 2
    with (
        seeded_farm(
            tmp_path,
            broker_url=service_url("amqp"),
            broker_delivery_limit=limit,
            sqlite_busy_timeout_seconds=120.0,
            outbox_every_seconds=QUIET_OUTBOX,
        ) as farmed,
        web_client(farmed) as (client, headers),
    ):
        before = rebuilt(farmed)
        broker = Broker(farmed.settings)
        depth = lambda key: broker.queue_depths()[key]  # noqa: E731
        with scheduler_locked(farmed):
            poison = post_rebuild(client, headers, a_build(farmed), 1)
            behind = post_rebuild(client, headers, a_build(farmed), 1)
            wait_until(lambda: depth(REQUESTS) == 2, 30, "both jobs on the queue")
            for delivery in range(1, limit + 2):
                with running(
                    ["agent"], env=settings_env(farmed.settings), ready="agent consuming"
                ) as (agent, output):
                    wait_until(lambda: depth(REQUESTS) == 1, 30, f"delivery {delivery}")
                    if delivery > 1:
                        earlier = (
                            f"job {poison} delivered again (earlier deliveries: {delivery - 1})"
                        )
                        output.wait_for(earlier, 30)
                    agent.send_signal(signal.SIGKILL)
                    agent.wait(timeout=30)
                if delivery <= limit:
                    wait_until(lambda: depth(REQUESTS) == 2, 30, "the job back on the queue")
            wait_until(lambda: depth(DEAD) == 1, 30, "the job in the dead-letter queue")
            assert depth(REQUESTS) == 1
        with agent_in_background(farmed.settings, farmed.databases, farmed.layout):
            assert farmed.wait_for_job(behind, timeout=60) == {"errors": False, "msg": "Ok"}
        dead = dead_letters(broker)
        broker.close()
        assert [body["body"]["request_id"] for body, _ in dead] == [poison]
        assert dead[0][1]["x-first-death-reason"] == "delivery_limit"
        assert farmed.job(poison).completed_at is None
        assert markers(farmed, poison) == 0
        assert rebuilt(farmed) == before + 1


def dead_letters(broker: Broker) -> list[tuple[Any, dict[str, Any]]]:
    """The bodies and headers in the dead-letter queue, taken off it."""
    taken = []
    with broker.connect() as connection:
        queue = broker.queues[DEAD](connection.channel())
        while (message := queue.get(no_ack=True)) is not None:
            taken.append((message.payload, message.headers))
    return taken


def retry_times(output: Output, job_id: int, count: int) -> list[datetime]:
    """When the agent logged its first `count` "cannot be carried out now" lines for the job."""
    lines = [output.wait_for(f"job {job_id} cannot be carried out now", 30) for _ in range(count)]
    return [datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f") for line in lines]


def test_a_locked_scheduler_database_is_retried_after_the_delay_not_dead_lettered(
    tmp_path: Path,
) -> None:
    """More tries than the delivery limit while the database is locked, each after the delay;
    the job is carried out once the lock goes, and nothing is dead-lettered."""
    delay = 1.0
    with (
        seeded_farm(
            tmp_path,
            broker_url=service_url("amqp"),
            broker_delivery_limit=1,
            broker_retry_delay_seconds=delay,
            sqlite_busy_timeout_seconds=0.2,
            outbox_every_seconds=QUIET_OUTBOX,
        ) as farmed,
        web_client(farmed) as (client, headers),
        running(["agent"], env=settings_env(farmed.settings), ready="agent consuming") as (
            _agent,
            output,
        ),
    ):
        before = rebuilt(farmed)
        with scheduler_locked(farmed):
            job_id = post_rebuild(client, headers, a_build(farmed), 1)
            tries = retry_times(output, job_id, 4)
            assert farmed.job(job_id).completed_at is None
        gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(tries)]
        assert min(gaps) >= delay - 0.1, gaps
        assert farmed.wait_for_job(job_id, timeout=60) == {"errors": False, "msg": "Ok"}
        assert_drained(farmed, REQUESTS)
        assert rebuilt(farmed) == before + 1
        assert markers(farmed, job_id) == 1


def test_a_result_the_web_cannot_store_now_is_retried_not_dead_lettered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The web's results consumer meets its own database locked more times than the delivery
    limit; the answer is stored once the lock goes."""
    with (
        seeded_farm(
            tmp_path,
            broker_url=service_url("amqp"),
            broker_delivery_limit=1,
            broker_retry_delay_seconds=0.5,
            sqlite_busy_timeout_seconds=0.2,
            outbox_every_seconds=QUIET_OUTBOX,
        ) as farmed,
        web_client(farmed) as (client, headers),
    ):
        job_id = post_rebuild(client, headers, a_build(farmed), 1)
        wait_until(lambda: farmed.job(job_id).state == "published", 30, "the job published")
        storing = f"cannot store the result of job {job_id}"
        with (
            sqlite_locked(farmed.databases.buildapi_db.url.database),
            agent_in_background(farmed.settings, farmed.databases, farmed.layout),
        ):
            wait_until(
                lambda: sum(storing in record.getMessage() for record in caplog.records) >= 4,
                30,
                "four tries to store the answer",
            )
        assert farmed.wait_for_job(job_id, timeout=60) == {"errors": False, "msg": "Ok"}
        assert_drained(farmed, FINISHED)
        assert markers(farmed, job_id) == 1
