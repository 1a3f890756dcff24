"""The state file of a cluster: what `up` started (by process id) and what it reused, written
after every start so that `down` can stop a half-started cluster too."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from buildapi.cluster.parts import ClusterError, Reused, Started

STATE_FILE = "cluster.json"


@dataclass
class ClusterState:
    directory: Path
    started: list[Started] = field(default_factory=list)
    reused: list[Reused] = field(default_factory=list)
    url: str = ""
    user: str = ""
    password: str = ""

    @property
    def path(self) -> Path:
        return self.directory / STATE_FILE

    def part(self, name: str) -> Started:
        for started in self.started:
            if started.part.name == name:
                return started
        names = ", ".join(started.part.name for started in self.started) or "none"
        raise ClusterError(f"no part {name!r} in the cluster in {self.directory} (parts: {names})")

    def replace(self, started: Started) -> None:
        self.started = [
            started if old.part.name == started.part.name else old for old in self.started
        ]

    def save(self) -> None:
        document = {
            "started": [started.to_json() for started in self.started],
            "reused": [asdict(reused) for reused in self.reused],
            "url": self.url,
            "user": self.user,
            "password": self.password,
        }
        temporary = self.path.with_suffix(".tmp")
        # The password of the cluster's proxy user is in it: readable by its owner only.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as output:
            json.dump(document, output, indent=1)
        temporary.replace(self.path)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)


def load_state(directory: Path) -> ClusterState | None:
    """The state of the cluster in `directory`; None when nothing was started there."""
    path = directory / STATE_FILE
    if not path.is_file():
        return None
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return ClusterState(
            directory,
            [Started.from_json(item) for item in document["started"]],
            [Reused(**item) for item in document["reused"]],
            document["url"],
            document["user"],
            document["password"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ClusterError(f"{path} is not a cluster state file ({exc})") from None
