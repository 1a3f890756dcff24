"""`buildapi dumps` and `buildapi mail-waittimes`: what the farm's numbers are sent out as."""

from __future__ import annotations

import argparse
import sys
import time

from buildapi.cli.databases import open_databases
from buildapi.config import Settings


def run_dumps(args: argparse.Namespace, settings: Settings) -> int:
    import threading

    from buildapi.dumps.daily import write_day_dump
    from buildapi.dumps.run import refresh_forever, write_live_dumps
    from buildapi.layout import load_layout

    out = getattr(args, "out", None) or settings.dumps_path
    layout = load_layout(settings)
    databases = open_databases(settings, "dumps")
    try:
        for day in args.day:
            print(write_day_dump(databases, out, day))
        every = getattr(args, "every", None)
        if every:
            print(f"writing the dumps to {out} every {every:g} s; Ctrl-C stops", flush=True)
            refresh_forever(databases, layout, out, every, threading.Event())
        for path in write_live_dumps(databases, layout, out, time.time()):
            print(path)
    finally:
        databases.dispose()
    return 0


def run_mail_waittimes(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when every recipient took the mail, 2 when some refused it, 1 when it failed."""
    import smtplib

    from buildapi.layout import load_layout
    from buildapi.reports import mail
    from buildapi.reports.waittimes import BlockParams, pool_wait_times
    from buildapi.reports.window import make_window, parse_time

    now = time.time()
    zone = settings.zone
    window = make_window(
        parse_time(args.starttime, "--starttime", zone),
        parse_time(args.endtime, "--endtime", zone, end=True),
        None,
        now=now,
        max_days=settings.reports_max_window_days,
    )
    blocks = BlockParams.checked(args.mpb, args.maxb)
    databases = open_databases(settings, "mail-waittimes", quiet=True)
    try:
        with databases.schedulerdb.connect() as connection:
            report = pool_wait_times(connection, load_layout(settings), args.pool, window, blocks)
    finally:
        databases.dispose()
    message = mail.make_message(report, args.sender, args.to, zone, now)
    try:
        refused = mail.send(mail.SmtpServer(*args.smtp), message, args.to)
    except (OSError, smtplib.SMTPException) as exc:
        print(
            f"buildapi mail-waittimes: cannot send via {args.smtp[0]}:{args.smtp[1]}: {exc}",
            file=sys.stderr,
        )
        return 1
    if refused:
        listed = "; ".join(f"{address} ({reason})" for address, reason in sorted(refused.items()))
        print(f"buildapi mail-waittimes: refused: {listed}", file=sys.stderr)
        return 2
    return 0
