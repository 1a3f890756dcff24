"""Build properties kind by kind, against the names and types the real builds-4hr dumps carry
(sample_properties.json, made from them by tools/sample_properties.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from buildapi.farm.properties import BuildFacts, finish_properties, start_properties
from buildapi.layout import Builder, Master
from buildapi.layout.loader import example_location
from buildapi.layout.models import BuildersDocument
from buildapi.vocabulary import Result

SAMPLES = json.loads((Path(__file__).parent / "sample_properties.json").read_text())
BUILDERS = BuildersDocument.model_validate_json(
    Path(example_location("builders.json")).read_text()
).builders
MASTER = Master(
    name="bm01-build1",
    hostname="buildbot-master01.example.com",
    http_port=8001,
    pb_port=9001,
    db_name="buildbot-master01.example.com:/builds/buildbot/build1/master",
    role="build",
)
REVISION = "982a89285fbd599786e7bdf2d4ec9ec25e08d330"
PUSHER = "mcmanus@example.org"
BUILDID = "20160314082959"
# What the samples carry and the farm deliberately does not, by kind of build.
NOT_WRITTEN = {
    # The samples' repacks are a release's (its candidate number, release config and list of
    # products); the farm's l10n builders repack nightlies.
    "l10n": {"build_number", "products", "release_config"},
}
JSON_TYPES = {
    str: "string", int: "number", float: "number", bool: "boolean", list: "array", dict: "object"
}  # fmt: skip


def debug_builder(name: str, builder: Builder) -> bool:
    return name.endswith(" leak test build") or " debug test " in name


def builders_like(sample: dict[str, Any]) -> list[str]:
    """The shipped builders of the sample group's kind, try or not, system and debug or not."""
    return sorted(
        name
        for name, builder in BUILDERS.items()
        if builder.kind == sample["kind"]
        and (builder.properties.branch == "try") == sample["try"]
        and _system(builder.properties.platform) == sample["system"]
        and debug_builder(name, builder) == sample["debug"]
    )


def _system(platform: str) -> str:
    for start, system in (("win", "win"), ("linux", "linux"), ("macosx", "mac")):
        if platform.startswith(start):
            return system
    return platform.split("-", 1)[0]


def facts_for(name: str, **overrides: Any) -> BuildFacts:
    builder = BUILDERS[name]
    values: dict[str, Any] = {
        "buildername": name,
        "builder": builder,
        "master": MASTER,
        "slave": "bld-linux64-ec2-048",
        "number": 1467,
        "revision": REVISION,
        "request_times": {27997895: 1457944199.25},
        "buildset": {
            "branch": (builder.properties.branch, "Scheduler"),
            "buildid": (BUILDID, "Scheduler"),
            "builduid": ("caa1cec65c6844c18035ea32a2fa7f7b", "Scheduler"),
            "scheduler": (f"{builder.properties.branch}-dep", "Scheduler"),
        },
        "pusher": PUSHER,
        "comments": "Bug 1245123 - Fix the crash on close. r=dana",
        **overrides,
    }
    return BuildFacts(**values)


def properties_of(name: str, result: int = Result.SUCCESS, **overrides: Any) -> dict[str, Any]:
    facts = facts_for(name, **overrides)
    return {**start_properties(facts), **finish_properties(facts, result)}


def json_type(value: Any) -> str:
    return "null" if value is None else JSON_TYPES[type(value)]


@pytest.mark.parametrize(
    "sample",
    SAMPLES,
    ids=[f"{s['kind']}-{'try' if s['try'] else 'dep'}-{s['system']}-{s['debug']}" for s in SAMPLES],
)
def test_builds_carry_what_real_builds_of_their_kind_carry(sample: dict[str, Any]) -> None:
    """Every property that every sample build of a group has, the farm writes on a good build
    of the same kind, with a value of the same JSON type."""
    names = builders_like(sample)
    assert names, f"no shipped builder is like the sample group {sample}"
    ours = properties_of(names[0])
    wanted = set(sample["properties"]) - NOT_WRITTEN.get(sample["kind"], set())
    assert sorted(wanted - set(ours)) == [], names[0]
    types = {name: json_type(ours[name]) for name in wanted}
    assert types == {name: sample["properties"][name] for name in wanted}, names[0]


def test_a_good_build_gives_mozci_its_package_and_tests_side_by_side() -> None:
    ours = properties_of("Linux x86-64 mozilla-inbound build")
    folder, package = ours["packageUrl"].rsplit("/", 1)
    assert package == "firefox-47.0a1.en-US.linux-x86_64.tar.bz2" == ours["packageFilename"]
    stem = package.removesuffix(".tar.bz2")
    assert ours["testsUrl"] == f"{folder}/{stem}.tests.zip"
    assert ours["testPackagesUrl"] == f"{folder}/{stem}.test_packages.json"
    assert ours["symbolsUrl"] == f"{folder}/{stem}.crashreporter-symbols.zip"
    assert folder.endswith(f"/tinderbox-builds/mozilla-inbound-linux64/{BUILDID}")
    assert ours["log_url"].startswith(f"{folder}/")
    assert len(ours["packageHash"]) == 128 and ours["packageSize"].isdigit()


def test_a_failed_build_uploads_nothing() -> None:
    ours = properties_of("Linux x86-64 mozilla-inbound build", Result.FAILURE)
    assert not {"packageUrl", "testsUrl", "testPackagesUrl", "symbolsUrl"} & set(ours)


def test_try_builds_name_their_pusher_and_other_builds_do_not() -> None:
    """As in the samples: `who` on try builds, not on their tests nor on other branches."""
    try_build = properties_of("Linux x86-64 try leak test build")
    assert try_build["who"] == PUSHER
    assert f"/try-builds/{PUSHER}-{REVISION[:12]}/try-linux64-debug/" in try_build["packageUrl"]
    assert try_build["platform"] == try_build["stage_platform"] == "linux64-debug"
    assert "who" not in properties_of("Ubuntu VM 12.04 x64 try debug test crashtest")
    assert "who" not in properties_of("Linux x86-64 mozilla-inbound build")


def test_a_failed_try_build_still_names_its_pusher() -> None:
    assert properties_of("WINNT 5.2 try build", Result.FAILURE)["who"] == PUSHER


def test_tests_download_the_build_they_test() -> None:
    """A test's build_url and symbols_url are the package and symbols its upstream build
    uploaded; talos download the package only."""
    for kind in ("test", "talos"):
        tests = [n for n, b in BUILDERS.items() if b.kind == kind and b.triggered_by]
        assert tests
        for name in tests:
            ours = properties_of(name)
            built = properties_of(BUILDERS[name].triggered_by or "")
            assert ours["build_url"] == built["packageUrl"], name
            assert ours.get("symbols_url") == (built["symbolsUrl"] if kind == "test" else None)
            assert ours["log_url"].rsplit("/", 1)[0] == built["packageUrl"].rsplit("/", 1)[0]
            assert ("pgo_build" in ours) == (BUILDERS[name].properties.branch != "try")


def test_a_desktop_nightly_offers_updates_from_the_day_before() -> None:
    ours = properties_of("WINNT 5.2 mozilla-central nightly")
    assert ours["nightly_build"] is True and ours["previous_buildid"] == "20160313082959"
    folder = "/firefox/nightly/2016/03/2016-03-14-08-29-59-mozilla-central/"
    assert folder in ours["completeMarUrl"] and folder in ours["packageUrl"]
    assert ours["partialMarUrl"].endswith(".win32.partial.20160313082959-20160314082959.mar")
    assert ours["partialInfo"] == [
        {
            "from_buildid": "20160313082959",
            "hash": ours["partialMarHash"],
            "size": ours["partialMarSize"],
            "url": ours["partialMarUrl"],
        }
    ]
    assert "completeMarUrl" not in properties_of("Android armv7 API 15+ mozilla-central nightly")


def test_periodic_builds_have_empty_comments_and_no_pusher() -> None:
    ours = properties_of("WINNT 5.2 mozilla-inbound pgo-build", pusher=None, comments="")
    assert ours["comments"] == "" and "who" not in ours
    assert ours["stage_platform"] == "win32-pgo" and ours["platform"] == "win32"


def test_each_build_gets_its_own_hashes_but_the_same_ones_again() -> None:
    name = "WINNT 5.2 mozilla-inbound build"
    first, again, rebuilt = properties_of(name), properties_of(name), properties_of(name, number=2)
    assert first["installerHash"] == again["installerHash"] != rebuilt["installerHash"]
    assert first["packageUrl"] == rebuilt["packageUrl"], "a rebuild uploads to the same folder"


def test_every_test_builder_tests_a_build_of_its_own_branch_platform_and_product() -> None:
    """Tests find their build's upload from their own builder's properties (see uploads.py)."""
    for builder in BUILDERS.values():
        if builder.triggered_by is not None:
            assert BUILDERS[builder.triggered_by].properties == builder.properties
