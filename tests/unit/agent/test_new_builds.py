"""Nightly, PGO and single-builder requests on every engine."""

from __future__ import annotations

import datetime
import json
import re
from zoneinfo import ZoneInfo

from buildapi.selfserve.messages import Outcome
from tests.unit.agent.conftest import (
    REVISION,
    WHO,
    Seeded,
    count,
    dispatcher_of,
    job,
    rows,
)

NOW = 1_780_000_600
BUILDER = "Linux x86-64 mozilla-inbound build"


def buildset_properties(seeded: Seeded, bsid: int) -> dict[str, list]:
    return {
        name: json.loads(value)
        for name, value in rows(
            seeded.engine,
            "SELECT property_name, property_value FROM buildset_properties WHERE buildsetid = :i",
            i=bsid,
        )
    }


def test_nightly_requests_every_nightly_builder_of_the_branch(seeded: Seeded) -> None:
    expected = sorted(
        name
        for name in seeded.layout.builders_for_branch("mozilla-central")
        if name.endswith(" nightly")
    )
    assert expected  # the shipped layout has nightlies (and l10n nightlies, left out)

    outcome = seeded.dispatcher.perform(
        job("new_nightly_at_revision", branch="mozilla-central", revision=REVISION, priority=2)
    )

    assert outcome == Outcome(False, "Ok")
    assert rows(seeded.engine, "SELECT branch, revision, patchid FROM sourcestamps") == [
        ("mozilla-central", REVISION, None)
    ]
    ((bsid, reason, submitted_at),) = rows(
        seeded.engine, "SELECT id, reason, submitted_at FROM buildsets"
    )
    assert (reason, submitted_at) == (f"Self-serve: Requested by {WHO}", NOW)
    requests = rows(
        seeded.engine,
        "SELECT buildername, priority, claimed_at, claimed_by_name, complete FROM buildrequests "
        "ORDER BY buildername",
    )
    assert requests == [(name, 2, 0, None, 0) for name in expected]
    properties = buildset_properties(seeded, bsid)
    assert set(properties) == {"buildid", "builduid"}
    assert properties["buildid"] == ["20260528203640", "self-serve"]  # UTC by default
    assert re.fullmatch(r"[0-9a-f]{32}", properties["builduid"][0])
    assert properties["builduid"][1] == "self-serve"


def test_pgo_with_the_configured_zone(seeded: Seeded) -> None:
    zone = ZoneInfo("America/Los_Angeles")
    dispatcher = dispatcher_of(
        seeded.engine, seeded.layout, seeded.masters, seeded.clock, zone=zone
    )
    outcome = dispatcher.perform(
        job("new_pgobuild_at_revision", branch="mozilla-inbound", revision=REVISION, priority=0)
    )
    assert outcome == Outcome(False, "Ok")
    names = [row[0] for row in rows(seeded.engine, "SELECT buildername FROM buildrequests")]
    assert names and all(
        name.endswith(" pgo-build") and "mozilla-inbound" in name for name in names
    )
    (bsid,) = rows(seeded.engine, "SELECT id FROM buildsets")[0]
    local = datetime.datetime.fromtimestamp(NOW, zone).strftime("%Y%m%d%H%M%S")
    assert buildset_properties(seeded, bsid)["buildid"] == [local, "self-serve"]
    assert rows(seeded.engine, "SELECT branch FROM sourcestamps") == [
        ("integration/mozilla-inbound",)
    ]


def test_no_matching_builders_writes_nothing(seeded: Seeded) -> None:
    outcome = seeded.dispatcher.perform(
        job("new_nightly_at_revision", branch="try", revision=REVISION, priority=0)
    )
    assert outcome == Outcome(False, "No builds to create")
    assert count(seeded.engine, "sourcestamps") == count(seeded.engine, "buildsets") == 0
    assert count(seeded.engine, "selfserve_actions") == 1


def test_unknown_branch_or_builder(seeded: Seeded) -> None:
    perform = seeded.dispatcher.perform
    assert perform(
        job("new_pgobuild_at_revision", branch="nope", revision=REVISION, priority=0)
    ) == Outcome(True, "Unknown branch nope")
    assert perform(
        job(
            "new_build_for_builder",
            branch="nope-selfserve",
            revision=REVISION,
            priority=0,
            builder_name=BUILDER,
            properties={},
            files=[],
        )
    ) == Outcome(True, "Unknown branch nope")
    assert perform(
        job(
            "new_build_for_builder",
            branch="mozilla-inbound-selfserve",
            revision=REVISION,
            priority=0,
            builder_name="No such builder",
            properties={},
            files=[],
        )
    ) == Outcome(True, "Unknown builder No such builder")
    assert count(seeded.engine, "buildsets") == count(seeded.engine, "changes") == 0


def test_build_for_builder_writes_change_sourcestamp_buildset_request(seeded: Seeded) -> None:
    outcome = seeded.dispatcher.perform(
        job(
            "new_build_for_builder",
            branch="mozilla-inbound-selfserve",
            revision=REVISION,
            priority=3,
            builder_name=BUILDER,
            properties={"buildid": "mine", "answer": 42},
            files=["a/b.txt", "c.zip"],
        )
    )

    assert outcome == Outcome(False, "Ok")
    ((changeid, author, comments, branch, revision, when),) = rows(
        seeded.engine,
        "SELECT changeid, author, comments, branch, revision, when_timestamp FROM changes",
    )
    assert (author, comments, branch, revision, when) == (
        WHO,
        "",
        "mozilla-inbound-selfserve",
        REVISION,
        NOW,
    )
    assert rows(seeded.engine, "SELECT changeid, filename FROM change_files ORDER BY filename") == [
        (changeid, "a/b.txt"),
        (changeid, "c.zip"),
    ]
    ((ssid, ss_branch),) = rows(seeded.engine, "SELECT id, branch FROM sourcestamps")
    assert ss_branch == "mozilla-inbound"
    assert rows(seeded.engine, "SELECT sourcestampid, changeid FROM sourcestamp_changes") == [
        (ssid, changeid)
    ]
    ((bsid,),) = rows(seeded.engine, "SELECT id FROM buildsets WHERE sourcestampid = :s", s=ssid)
    properties = buildset_properties(seeded, bsid)
    assert properties["buildid"] == ["mine", "self-serve"]
    assert properties["answer"] == [42, "self-serve"]
    assert re.fullmatch(r"[0-9a-f]{32}", properties["builduid"][0])
    assert rows(
        seeded.engine, "SELECT buildername, priority, claimed_by_name FROM buildrequests"
    ) == [(BUILDER, 3, None)]
