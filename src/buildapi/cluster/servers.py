"""The cluster's private servers that need nothing but a directory and a port: Redis, RabbitMQ
(with its own epmd, cookie and node name, so it never meets the machine's RabbitMQ), and an
SMTP sink that keeps every mail it takes in a maildir."""

from __future__ import annotations

import hashlib
import signal
import sys
from pathlib import Path

from buildapi.cluster.parts import Part
from buildapi.cluster.programs import find_program


def redis_part(directory: Path, port: int) -> Part:
    home = directory / "redis"
    home.mkdir(parents=True, exist_ok=True)
    argv = (find_program("redis-server"), "--port", str(port), "--bind", "127.0.0.1")
    argv += ("--dir", str(home), "--save", "", "--appendonly", "no", "--daemonize", "no")
    return Part("redis", argv, port=port, shows=f"redis://127.0.0.1:{port}/0")


def node_name(directory: Path) -> str:
    """An Erlang node name of this cluster alone: two clusters never share one."""
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:10]
    return f"buildapi-{digest}@localhost"


def epmd_part(port: int) -> Part:
    """Erlang's port mapper on a port of the cluster's own, run in the foreground so that it
    stops with the cluster (RabbitMQ would otherwise start a daemon that stays behind)."""
    argv = (find_program("epmd"), "-port", str(port), "-address", "127.0.0.1")
    return Part("epmd", argv, port=port)


def rabbitmq_part(directory: Path, port: int, epmd_port: int, dist_port: int) -> Part:
    home = directory / "rabbitmq"
    home.mkdir(parents=True, exist_ok=True)
    (home / "enabled_plugins").write_text("[].\n", encoding="utf-8")
    env = {
        "HOME": str(home),  # where Erlang keeps the node's cookie
        "RABBITMQ_NODENAME": node_name(directory),
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
        "RABBITMQ_LOG_BASE": str(home / "log"),
        "RABBITMQ_PID_FILE": str(home / "rabbitmq.pid"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
        # Files that do not exist, so that the machine's /etc/rabbitmq is not read.
        "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(home / "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    return Part(
        "rabbitmq",
        (find_program("rabbitmq-server"),),
        port=port,
        env=env,
        shows=broker_url(port),
    )


def broker_url(port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}//"  # guest may log in from loopback


def smtp_sink_part(directory: Path, port: int) -> Part:
    maildir = directory / "mail"
    argv = (sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}")
    argv += ("-c", "aiosmtpd.handlers.Mailbox", str(maildir))
    return Part("mail-sink", argv, port=port, stop_signal=signal.SIGINT, shows=str(maildir))
