"""`buildapi cluster up|down|status|restart`: the production topology on this machine, on
loopback, in a state directory (see docs/cli.md#buildapi-cluster)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from buildapi.config import Settings

DEFAULT_DIR = Path("buildapi-cluster")


def run_cluster_up(args: argparse.Namespace, _settings: Settings) -> int:
    from buildapi.cluster.control import AlreadyUp, Options, up

    options = Options(
        directory=args.dir,
        database=args.database,
        database_url=args.database_url or "",
        broker_url=args.broker_url or "",
        port=args.port,
        web_workers=args.web_workers,
        agents=args.agents,
        history_days=args.history_days,
        mail_every_minutes=args.mail_every,
        config=getattr(args, "config", None),
    )
    try:
        state = up(options, _say)
    except AlreadyUp as exc:
        print(f"buildapi cluster: {exc.msg}", file=sys.stdout if _whole(exc) else sys.stderr)
        return 0 if _whole(exc) else 1
    print(f"open {state.url} as {state.user}, password {state.password}")
    print(f"config for other commands: --config {state.directory / 'buildapi.toml'}")
    return 0


def _whole(exc: object) -> bool:
    return exc.running == len(exc.state.started)  # type: ignore[attr-defined]


def run_cluster_down(args: argparse.Namespace, _settings: Settings) -> int:
    from buildapi.cluster.control import down
    from buildapi.cluster.state import load_state

    state = load_state(args.dir.resolve())
    if state is None:
        print(f"no cluster in {args.dir.resolve()}; nothing to stop")
        return 0
    stopped = down(state, _say)
    print(f"stopped {stopped} of {len(state.started)} parts")
    return 0


def run_cluster_status(args: argparse.Namespace, _settings: Settings) -> int:
    """Exit 0 when every part answers, 1 otherwise."""
    from buildapi.cluster.control import describe, status
    from buildapi.cluster.state import load_state

    state = load_state(args.dir.resolve())
    if state is None:
        print(f"buildapi cluster: no cluster in {args.dir.resolve()}", file=sys.stderr)
        return 1
    rows = status(state)
    for started, alive, answers in rows:
        how = "answers" if answers else ("silent" if alive else "down")
        print(describe(started, how))
    for reused in state.reused:
        print(f"{reused.name:<11} reused")
    if state.url:
        print(f"open {state.url} as {state.user}, password {state.password}")
    return 0 if all(answers for _, _, answers in rows) else 1


def run_cluster_restart(args: argparse.Namespace, _settings: Settings) -> int:
    from buildapi.cluster.control import restart
    from buildapi.cluster.state import load_state

    state = load_state(args.dir.resolve())
    if state is None:
        print(f"buildapi cluster: no cluster in {args.dir.resolve()}", file=sys.stderr)
        return 1
    restart(state, args.part, _say)
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
