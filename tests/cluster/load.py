"""Clients of the load test: each loops over reads of every family and writes, through the
proxy, retrying 503s and lost connections with the same Idempotency-Key, and records what
every attempt got."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BRANCH = "mozilla-inbound"
RETRY_SECONDS = 45.0  # how long a client keeps retrying one request
READS = (
    "/pending",
    "/running",
    "/recent",
    "/pushes",
    "/self-serve/branches",
    f"/self-serve/{BRANCH}",
    "/self-serve/jobs",
    "/reports/waittimes",
    "/reports/pushes",
    f"/reports/builders/{BRANCH}",
    "/builddata/buildjson",
    "/builddata/buildjson/builds-pending.js",
    "/builddata/buildjson/builds-running.js",
)


class PendingRequests:
    """The branch's pending requests, refreshed while the load runs (masters claim them
    fast), by who may act on them: the scheduler's, anyone; a self-serve one, its user."""

    def __init__(self) -> None:
        self._by_owner: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def update(self, rows: list[tuple[int, str]]) -> None:
        by_owner: dict[str, list[int]] = {}
        for brid, reason in rows:
            owner = reason.rpartition(" by ")[2] if reason.startswith("Self-serve:") else ""
            by_owner.setdefault(owner, []).append(brid)
        with self._lock:
            self._by_owner = by_owner

    def pick(self, user: str, rng: random.Random) -> int | None:
        with self._lock:
            mine, anyone = self._by_owner.get(user, []), self._by_owner.get("", [])
            choices = mine if mine and rng.random() < 0.7 else anyone
            return rng.choice(choices) if choices else None


@dataclass(frozen=True)
class Targets:
    """Rows of the scheduler database the writes and reads aim at."""

    build_ids: list[int]
    pending: PendingRequests
    revisions: list[str]
    builders: list[str]


@dataclass(frozen=True)
class Accepted:
    user: str
    action: str
    count: int  # the builds a rebuild asked for; 1 otherwise


@dataclass
class Record:
    """What all clients saw, under one lock."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    accepted: dict[int, Accepted] = field(default_factory=dict)
    given_up: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attempt(self, seconds: float, response: httpx.Response) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[response.status_code] += 1
            if response.status_code >= 500 and response.status_code != 503:
                request = response.request
                self.server_errors.append(
                    f"{request.method} {request.url.path}: {response.status_code} "
                    f"{response.text[:200]}"
                )

    def retry(self, why: str) -> None:
        with self.lock:
            self.retries[why] += 1

    def accept(self, job_id: int, accepted: Accepted) -> None:
        with self.lock:
            self.accepted[job_id] = accepted

    def give_up(self, what: str) -> None:
        with self.lock:
            self.given_up.append(what)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self, seconds: float) -> str:
        total = len(self.latencies)
        return (
            f"{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s); latency p50 "
            f"{self.percentile(0.5) * 1000:.0f} ms, p95 {self.percentile(0.95) * 1000:.0f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.0f} ms, mean "
            f"{(statistics.fmean(self.latencies) if total else 0) * 1000:.0f} ms; statuses "
            f"{dict(sorted(self.statuses.items()))}; retries {dict(self.retries)}"
        )


def send(
    http: httpx.Client, record: Record, method: str, path: str, **options: Any
) -> httpx.Response | None:
    """The request's answer, retried on 503 and on connection errors (writes carry one
    Idempotency-Key throughout, so a retry never makes a second job)."""
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        began = time.monotonic()
        try:
            response = http.request(method, path, **options)
        except httpx.TransportError as exc:
            record.retry(type(exc).__name__)
        else:
            record.attempt(time.monotonic() - began, response)
            if response.status_code != 503:
                return response
            record.retry("503")
        if time.monotonic() > deadline:
            record.give_up(f"{method} {path}")
            return None
        time.sleep(0.25)  # back off before the retry


class WritePace:
    """Lets writes through at `per_second` on average over the whole load, so that the agents
    (a few answers a second each, on cores the load shares) answer the last job within the
    deadline and a missing answer means a lost job, not a backlog."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.began = time.monotonic()
        self.taken = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.taken >= (time.monotonic() - self.began) * self.per_second:
                return False
            self.taken += 1
            return True


@dataclass
class Client:
    http: httpx.Client
    user: str
    targets: Targets
    record: Record
    rng: random.Random
    pace: WritePace

    def read(self) -> None:
        path = self.rng.choice(READS)
        if self.rng.random() < 0.2 and self.record.accepted:
            path = f"/self-serve/jobs/{self.rng.choice(list(self.record.accepted))}"
        send(self.http, self.record, "GET", path)

    def write(self, action: str, method: str, path: str, count: int = 1, **options: Any) -> None:
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        response = send(self.http, self.record, method, path, headers=headers, **options)
        if response is not None and response.status_code == 202:
            self.record.accept(response.json()["request_id"], Accepted(self.user, action, count))

    def rebuild(self) -> None:
        build_id = self.rng.choice(self.targets.build_ids)
        data = {"build_id": build_id, "count": 1}
        self.write("rebuild_build", "POST", f"/self-serve/{BRANCH}/build", data=data)

    def cancel(self) -> None:
        brid = self.targets.pending.pick(self.user, self.rng)
        if brid is not None:
            self.write("cancel_request", "DELETE", f"/self-serve/{BRANCH}/request/{brid}")

    def reprioritize(self) -> None:
        brid = self.targets.pending.pick(self.user, self.rng)
        if brid is None:
            return
        data = {"priority": self.rng.randint(1, 5)}
        self.write("reprioritize", "PUT", f"/self-serve/{BRANCH}/request/{brid}", data=data)

    def new_build(self) -> None:
        builder = self.rng.choice(self.targets.builders)
        revision = self.rng.choice(self.targets.revisions)
        path = f"/self-serve/{BRANCH}/builders/{builder}/{revision}"
        self.write("new_build_for_builder", "POST", path, json={"priority": 1})

    def run(self, stop: threading.Event) -> None:
        actions: list[Callable[[], None]] = [
            self.read, self.rebuild, self.cancel, self.reprioritize, self.new_build
        ]  # fmt: skip
        while not stop.is_set():
            action = self.rng.choices(actions, weights=(80, 8, 4, 4, 4))[0]
            (action if action == self.read or self.pace.take() else self.read)()
