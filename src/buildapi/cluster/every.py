"""`python -m buildapi.cluster.every SECONDS -- COMMAND...`: run COMMAND now and then every
SECONDS until stopped, as cron would; the cluster runs `buildapi mail-waittimes` this way."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence


def run_every(seconds: float, command: Sequence[str], stop: threading.Event) -> None:
    while not stop.is_set():
        done = subprocess.run(command, check=False)
        print(f"exit status {done.returncode}", flush=True)
        stop.wait(seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buildapi.cluster.every")
    parser.add_argument("seconds", type=float)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.seconds <= 0 or not command:
        parser.error("needs SECONDS > 0 and a command")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"every {args.seconds:g} s: {' '.join(command)}", flush=True)
    run_every(args.seconds, command, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
