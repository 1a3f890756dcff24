"""Labels stay within fixed sets, the shared directory is checked and kept clean of the live
gauges of dead processes, and the agent's metrics port serves what the agent observes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from buildapi.agent.consumer import ACTION_SECONDS
from buildapi.errors import ConfigError
from buildapi.layout import FarmLayout
from buildapi.metrics import (
    MULTIPROC_ENV,
    OTHER,
    bounded,
    forget_dead_processes,
    multiprocess_dir,
    serve_agent_metrics,
)
from buildapi.selfserve.messages import ACTIONS
from buildapi.vocabulary import POOL_NAMES
from buildapi.web.instrument import METHODS, UNMATCHED, request_id_for, template_of
from buildapi.web.scraped import UNKNOWN_POOL, _by_pool
from tests.processes import free_port


def test_a_known_value_is_its_own_label_and_anything_else_one_label() -> None:
    assert bounded("rebuild_build", ACTIONS) == "rebuild_build"
    assert bounded("drop_tables", ACTIONS) == OTHER
    assert bounded("", ACTIONS) == OTHER
    assert bounded("BREW", METHODS) == OTHER and bounded("GET", METHODS) == "GET"
    assert bounded("x", ("a",), other="elsewhere") == "elsewhere"


def test_pools_are_the_three_and_unknown(layout: FarmLayout) -> None:
    name, builder = next(iter(layout.builders.items()))
    counts = _by_pool(layout, {name: 3, "not-a-builder": 2, "another-unknown": 1})
    assert set(counts) == {*POOL_NAMES, UNKNOWN_POOL}
    assert counts[builder.pool] == 3 and counts[UNKNOWN_POOL] == 3
    assert sum(counts.values()) == 6


def test_a_route_is_labelled_by_its_template_and_nothing_else_by_its_path() -> None:
    from starlette.routing import Mount, Route

    assert template_of(Route("/self-serve/{branch}/build/{build_id}", lambda r: None)) == (
        "/self-serve/{branch}/build/{build_id}"
    )
    assert template_of(Mount("/static", app=lambda s, r, w: None)) == "/static/{path}"
    assert template_of(object()) == UNMATCHED


def test_request_ids_from_a_trusted_proxy_are_kept_others_replaced() -> None:
    assert request_id_for("0123abcd-proxy", trusted_peer=True) == "0123abcd-proxy"
    fresh = {
        request_id_for("0123abcd-proxy", trusted_peer=False),
        request_id_for(None, trusted_peer=True),
        request_id_for("", trusted_peer=True),
        request_id_for("has space", trusted_peer=True),
        request_id_for("x" * 129, trusted_peer=True),
        request_id_for("new\nline", trusted_peer=True),
    }
    assert len(fresh) == 6
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in fresh)


def test_no_variable_no_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    assert multiprocess_dir() is None
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    assert multiprocess_dir() == tmp_path
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="is not a directory"):
        multiprocess_dir()


def test_live_gauges_of_dead_processes_are_forgotten_counts_kept(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()

    names = [
        f"gauge_livesum_{gone.pid}.db",
        f"gauge_liveall_{gone.pid}.db",
        f"counter_{gone.pid}.db",
        f"histogram_{gone.pid}.db",
        f"gauge_livesum_{os.getpid()}.db",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert forget_dead_processes(tmp_path) == [gone.pid, gone.pid]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names[2:])


def scraped_count(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "buildapi_agent_action_duration_seconds_count" and sample.labels == {
                "action": "cancel_build"
            }:
                return sample.value
    raise AssertionError("no count of cancel_build")


def test_the_agent_port_serves_this_process_metrics_and_port_0_serves_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    assert serve_agent_metrics("127.0.0.1", 0) is None
    port = free_port()
    server = serve_agent_metrics("127.0.0.1", port)
    assert server is not None
    try:
        before = scraped_count(port)
        ACTION_SECONDS.labels(action="cancel_build").observe(0.2)
        assert scraped_count(port) == before + 1
        with pytest.raises(ConfigError, match=f"cannot serve agent metrics on 127.0.0.1:{port}"):
            serve_agent_metrics("127.0.0.1", port)
    finally:
        server.shutdown()
        server.server_close()


def test_counters_of_two_processes_add_up_in_the_directory(tmp_path: Path) -> None:
    """prometheus-client's multiprocess mode as BuildAPI reads it: two processes count, a third
    one's registry reports the sum."""
    script = (
        "from buildapi.selfserve import job_events\n"
        "for _ in range({n}): job_events.ACCEPTED.labels(action='cancel_build').inc()\n"
    )
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path)}
    for count in (2, 3):
        subprocess.run(
            [sys.executable, "-c", script.format(n=count)], env=env, check=True, timeout=60
        )
    reader = (
        "from buildapi.metrics import process_registry\n"
        "print(process_registry().get_sample_value("
        "'buildapi_job_requests_total', {'action': 'cancel_build'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", reader],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert float(done.stdout) == 5.0
