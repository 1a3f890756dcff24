"""`buildapi mail-waittimes` against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from buildapi.cli import main
from buildapi.config import Settings
from buildapi.db.engines import Databases
from tests.processes import free_port
from tests.unit.reports.test_waittimes import LINUX, T0, WINDOWS, add_request

REFUSED = "nobody@example.com"


class Mailbox:
    """Keeps every message; refuses one address, as a server does for an unknown user."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == REFUSED:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (
                envelope.rcpt_tos,
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, str]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield mailbox, f"127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@pytest.fixture
def data_dir(settings: Settings, databases: Databases) -> Path:
    with databases.schedulerdb.begin() as connection:
        add_request(connection, LINUX, T0 + 60, pushed=T0, started=T0 + 300)
        add_request(connection, LINUX, T0 + 60, pushed=T0, started=T0 + 60 + 1800)
        add_request(connection, WINDOWS, T0 + 100, pushed=T0 + 50, master=None)
    return settings.data_dir


def mail(data_dir: Path, server: str, *recipients: str) -> int:
    to = [part for address in recipients for part in ("--to", address)]
    window = ["--starttime", str(T0), "--endtime", str(T0 + 3600)]
    return main(["mail-waittimes", "--data-dir", str(data_dir), "--smtp", server, *to, *window])


def test_sends_the_report(
    smtp: tuple[Mailbox, str], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mailbox, server = smtp
    assert mail(data_dir, server, "a@example.com", "b@example.com") == 0
    assert capsys.readouterr() == ("", "")
    ((recipients, message),) = mailbox.messages
    assert recipients == ["a@example.com", "b@example.com"]
    assert message["Subject"] == "Wait: 2/50.00% (buildpool)"
    text = message.get_content().replace("\r\n", "\n")
    assert "Total Jobs: 2" in text
    assert "  0 :        1    50.00%" in text and " 30 :        1    50.00%" in text
    assert "linux-mock: 2" in text
    assert f"Jobs still waiting (have not started yet): 1:\n{WINDOWS}" in text
    assert "(PDT)" in text  # real Pacific time: late May is daylight time


def test_refused_recipient_exits_2(
    smtp: tuple[Mailbox, str], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mailbox, server = smtp
    assert mail(data_dir, server, "a@example.com", REFUSED) == 2
    assert REFUSED in capsys.readouterr().err
    assert [recipients for recipients, _ in mailbox.messages] == [["a@example.com"]]


def test_unreachable_server_exits_1_with_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert mail(data_dir, f"127.0.0.1:{free_port()}", "a@example.com") == 1
    err = capsys.readouterr().err
    assert err.startswith("buildapi mail-waittimes: cannot send") and err.count("\n") == 1


def test_bad_parameter_exits_1(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail-waittimes", "--data-dir", str(data_dir), "--to", "a@x", "--mpb", "0"]) == 1
    assert "mpb" in capsys.readouterr().err
