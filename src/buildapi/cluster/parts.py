"""What one part of the cluster is: the command that runs it and how to tell that it serves."""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from typing import Any

from buildapi.errors import BuildAPIError


class ClusterError(BuildAPIError):
    """Something the cluster cannot start or stop; one line for the command's user."""


@dataclass(frozen=True)
class Part:
    """A process of the cluster. It serves once `ready` shows in its log, or, without a
    marker, once its `port` accepts connections."""

    name: str
    argv: tuple[str, ...]
    port: int | None = None
    ready: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None  # run as this user (a server that refuses root)
    stop_signal: int = signal.SIGTERM
    shows: str = ""  # what the part serves, for the user: a URL or a path

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "argv": list(self.argv)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Part:
        return cls(**{**data, "argv": tuple(data["argv"])})


@dataclass(frozen=True)
class Started:
    """A part's process: its id and start time, which together name it even after the id is
    reused by another process."""

    part: Part
    pid: int
    create_time: float
    log_offset: int = 0  # where this run's output starts in the part's log

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "part": self.part.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Started:
        return cls(**{**data, "part": Part.from_json(data["part"])})


@dataclass(frozen=True)
class Reused:
    """A server the cluster uses but did not start (`--broker-url`, `--database-url`)."""

    name: str
    url: str
