"""The wait-time e-mail: a plain-text report of one pool, sent over SMTP.

The subject, `Wait: <total>/<percent in block 0>% (<pool>)`, is what people scan in their inbox;
the body has the block tables overall and per platform, and the jobs still waiting.
"""

from __future__ import annotations

import datetime
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.reports.waittimes import block_rows

LONG_TIME = "%a, %d %b %Y %H:%M:%S %z (%Z)"
# How many waiting builder names the mail lists before "...".
WAITING_SHOWN = 20


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    timeout: float = 30.0


def subject(report: dict[str, Any]) -> str:
    total = report["total"]
    first = report["wt"].get("0", {}).get("total", 0)
    share = 100.0 * first / total if total else 0.0
    return f"Wait: {total}/{share:.2f}% ({report['pool']})"


def body(report: dict[str, Any], zone: ZoneInfo, now: float) -> str:
    def when(epoch: float) -> str:
        return datetime.datetime.fromtimestamp(epoch, zone).strftime(LONG_TIME)

    lines = [
        f"Wait time report for {report['pool']} for jobs submitted between "
        f"{when(report['starttime'])} and {when(report['endtime'])}",
        "",
        f"Total Jobs: {report['total']}",
        "",
        "Wait Times",
        *_block_lines(report["wt"], report["total"], report["maxb"]),
        "",
        "Platform break down",
        "",
    ]
    for name, platform in report["platforms"].items():
        lines += [f"{name}: {platform['total']}"]
        lines += [*_block_lines(platform["wt"], platform["total"], report["maxb"]), ""]
    lines += [
        "The number on the left is how many minutes a build waited to start, rounded down.",
        f"Builds with no changes (usually nightly builds): {report['no_changes']}",
        "Rebuilds and forced rebuilds were excluded from the statistics.",
        "",
        *_name_lines(report),
        f"Generated at {when(now)}. All times are {zone.key}.",
    ]
    return "\n".join(lines) + "\n"


def _block_lines(wt: dict[str, Any], total: int, maxb: int) -> list[str]:
    lines = []
    for block, count, share in block_rows(wt, total):
        mark = "+" if maxb and block == maxb else " "
        percent = f" {share:8.2f}%" if share is not None else ""
        lines.append(f"{block:3d}{mark}: {count:8d}{percent}")
    return lines


def _name_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    waiting = report["pending"]
    if waiting:
        shown = ", ".join(waiting[:WAITING_SHOWN]) + (
            ", ..." if len(waiting) > WAITING_SHOWN else ""
        )
        lines += [f"Jobs still waiting (have not started yet): {len(waiting)}:", shown, ""]
    if report["otherplatforms"]:
        lines += [f"Builders counted under 'other': {', '.join(report['otherplatforms'])}", ""]
    if report["unknownbuilders"]:
        lines += [f"Builders excluded from the stats: {', '.join(report['unknownbuilders'])}", ""]
    return lines


def make_message(
    report: dict[str, Any], sender: str, recipients: Sequence[str], zone: ZoneInfo, now: float
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(report)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(now, localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body(report, zone, now))
    return message


def send(server: SmtpServer, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
    """Send; return the refused recipients with the server's reason (all of them when the
    server took none). Raises OSError or smtplib.SMTPException when the mail could not be sent."""
    with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
        try:
            refused = smtp.send_message(message, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
    return {
        address: f"{code} {reply.decode(errors='replace')}"
        for address, (code, reply) in refused.items()
    }
