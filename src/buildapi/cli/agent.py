"""`buildapi agent`: consume job requests from the broker until stopped, or drain the queue."""

from __future__ import annotations

import argparse
import sys

from buildapi.cli.databases import open_databases
from buildapi.config import Settings
from buildapi.db.compatibility import refuse_unsupported_schema
from buildapi.metrics import multiprocess_dir, serve_agent_metrics

AGENT_IDLE_SECONDS = 5.0


def run_agent(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from buildapi.agent.launch import agent_of
    from buildapi.layout import load_layout
    from buildapi.selfserve.broker import Broker

    if settings.broker_url.startswith("memory://"):
        print(
            "buildapi agent: broker_url is memory://, which only reaches an agent inside the same "
            "process (buildapi demo runs one); set broker_url to amqp://... to run agents apart",
            file=sys.stderr,
        )
        return 2
    multiprocess_dir()  # a bad PROMETHEUS_MULTIPROC_DIR stops here, in one line
    databases = open_databases(settings, "agent")
    metrics_server = None
    try:
        refuse_unsupported_schema(databases.schedulerdb)
        Broker(settings).verify_queues()
        metrics_server = serve_agent_metrics(
            settings.agent_metrics_host, settings.agent_metrics_port
        )
        with agent_of(settings, databases, load_layout(settings)) as agent:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: agent.stop())
            if args.drain:
                agent.drain(AGENT_IDLE_SECONDS)
            else:
                print(f"agent consuming {settings.broker_agent_queue}; Ctrl-C stops", flush=True)
                agent.run()
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
        databases.dispose()
    return 0
