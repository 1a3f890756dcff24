"""BuildAPI's side of the cluster: its configuration file, wiring every process to the
cluster's servers, and the processes themselves (farm, web workers, agents, dumps, mailer)."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

import buildapi as buildapi_package
from buildapi.cluster.nginx import MOUNT_PREFIX
from buildapi.cluster.parts import Part
from buildapi.config import read_config_file

CONFIG_FILE = "buildapi.toml"
DUMPS_EVERY_SECONDS = 30
MAIL_TO = "waittimes@localhost"


@dataclass(frozen=True)
class Wiring:
    """Where BuildAPI's processes find the cluster's servers."""

    databases: dict[str, str]  # schedulerdb, statusdb, buildapi_db -> URL
    broker_url: str
    cache_url: str
    queue_suffix: str  # empty on the cluster's own broker; else keeps a shared one's apart
    smtp_port: int | None  # the mail sink's; None: no mailer


def write_config(directory: Path, wiring: Wiring, farm: dict[str, str], base: Path | None) -> Path:
    """The cluster's configuration file: the keys of `base` (the user's --config, if any)
    with the cluster's wiring over them. Every BuildAPI process of the cluster reads it, and
    so can the user's own commands (`buildapi token create --config ...`)."""
    values: dict[str, Any] = read_config_file(base) if base else {}
    secret = values.get("secret_key") or secrets.token_hex(32)  # shared by the web workers
    values.update(
        {
            "data_dir": str((directory / "data").resolve()),
            **{f"{name}_url": url for name, url in wiring.databases.items()},
            "broker_url": wiring.broker_url,
            "cache_url": wiring.cache_url,
            "mount_prefix": MOUNT_PREFIX,
            "auth_trusted_proxies": ["127.0.0.1"],
            "secret_key": secret,
            **farm,
        }
    )
    if wiring.queue_suffix:
        for key in ("broker_agent_queue", "broker_web_queue", "broker_dead_letter_queue"):
            values[key] = f"buildapi-{key.split('_')[1]}-{wiring.queue_suffix}"
        values["broker_exchange"] = f"buildapi.control.{wiring.queue_suffix}"
    path = directory / CONFIG_FILE
    path.write_text(tomli_w.dumps(values), encoding="utf-8")
    return path


def buildapi(*args: str) -> tuple[str, ...]:
    """The command line of a `buildapi` command, with the Python running this one."""
    return (sys.executable, "-m", "buildapi.cli", *args)


def buildapi_env() -> dict[str, str]:
    """Variables that make the processes import this very buildapi package, whatever their
    working directory (the parts run in the state directory)."""
    source = str(Path(buildapi_package.__file__).resolve().parents[1])
    inherited = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(filter(None, [source, inherited]))}


def buildapi_parts(
    config: Path,
    web_ports: list[int],
    agents: int,
    smtp_port: int | None,
    mail_every_minutes: float,
) -> list[Part]:
    """The BuildAPI processes, in the order they start."""
    with_config = ("--config", str(config.resolve()))
    env = buildapi_env()
    parts = [Part("farm", buildapi("farm", *with_config), ready="farm running", env=env)]
    for number, port in enumerate(web_ports, start=1):
        parts.append(
            Part(
                f"web-{number}",
                buildapi("web", *with_config, "--port", str(port)),
                port=port,
                ready="BuildAPI is serving",
                env=env,
                shows=f"http://127.0.0.1:{port}{MOUNT_PREFIX}/",
            )
        )
    parts += [
        Part(f"agent-{number}", buildapi("agent", *with_config), ready="agent consuming", env=env)
        for number in range(1, agents + 1)
    ]
    dumps = ("dumps", *with_config, "--every", str(DUMPS_EVERY_SECONDS))
    parts.append(Part("dumps", buildapi(*dumps), ready="writing the dumps", env=env))
    if smtp_port is not None:
        mail = ("mail-waittimes", *with_config, "--to", MAIL_TO, "--smtp", f"127.0.0.1:{smtp_port}")
        every = (sys.executable, "-m", "buildapi.cluster.every", str(mail_every_minutes * 60))
        parts.append(Part("mailer", (*every, "--", *buildapi(*mail)), ready="every ", env=env))
    return parts
