"""Classification over every builder and slave the shipped layout has, plus cases from the notes."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from buildapi.reports import classify


def _example(name: str) -> dict:
    return json.loads(resources.files("buildapi.examples").joinpath(name).read_text())


BUILDERS = _example("builders.json")["builders"]
SLAVES = _example("slaves.json")

# An independent oracle: the slave pool a builder runs on says which platform it is.
POOL_PLATFORMS = {
    "bld-linux64-spot": {"linux-mock"},
    "try-linux64-spot": {"linux-mock"},
    "b-2008-ix": {"win2k8"},
    "bld-lion-r5": {"lion"},
    "tst-linux32-spot": {"ubuntu32_vm"},
    "tst-linux64-spot": {"ubuntu64_vm"},
    "tst-emulator64-spot": {"ubuntu64_vm", "ubuntu64_emulator_vm"},
    "t-yosemite-r5": {"yosemite"},
    "t-w732-ix": {"win7-ix"},
    "t-xp32-ix": {"xp-ix"},
    "t-w864-ix": {"win8-ix"},
    "talos-linux64-ix": {"ubuntu64_hw"},
}
KIND_JOB_TYPES = {
    "build": "build",
    "nightly": "build",
    "pgo": "build",
    "test": "unittest",
    "talos": "talos",
    "l10n": "repack",
}


def _expected_build_type(name: str, kind: str) -> str | None:
    if kind == "l10n":
        return None
    return "debug" if " debug " in name or name.endswith(" leak test build") else "opt"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_shipped_builder(name: str) -> None:
    builder = BUILDERS[name]
    assert classify.platform(name) in POOL_PLATFORMS[builder["slavepool"]]
    assert classify.job_type(name) == KIND_JOB_TYPES[builder["kind"]]
    assert classify.build_type(name) == _expected_build_type(name, builder["kind"])


@pytest.mark.parametrize("pool", sorted(SLAVES))
def test_every_shipped_slave_has_its_pool_as_silo(pool: str) -> None:
    assert {classify.silo(slave) for slave in SLAVES[pool]} == {pool}


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("Android 4.3 armv7 API 15+ ash debug test mochitest-1", "ubuntu64_emulator_vm"),
        ("Android 4.3 armv7 API 15+ ash opt test mochitest-1", "ubuntu64_vm"),
        ("Android 4.3 armv7 API 15+ ash opt test crashtest", "ubuntu64_emulator_vm"),
        ("Android armv7 API 9 try opt test plain-reftest-3", "ubuntu64_emulator_vm"),
        ("Android armv7 API 9 try opt test mochitest-3", "ubuntu64_vm"),
        ("TB WINNT 5.2 comm-central build", "win2k8"),
        ("Windows 8 64-bit try talos g1", "win8-ix"),
        ("WINNT 6.2 mozilla-central opt test xpcshell", "win8-ix"),
        ("Ubuntu VM 12.04 x64 try opt test xpcshell", "ubuntu64_vm"),
        ("Ubuntu VM 12.04 try opt test xpcshell", "ubuntu32_vm"),
        ("Ubuntu HW 12.04 try talos svgr", "ubuntu32_hw"),
        ("Ubuntu ASAN VM large 12.04 x64 try opt test reftest", "ubuntu64_emulator_vm"),
        ("b2g_mozilla-central_linux32_gecko build", "linux-mock"),
        ("Rev7 MacOSX Yosemite 10.10.5 try talos tp5o", "yosemite"),
        ("Linux x86-64 mozilla-central pgo-build", "linux-mock"),
        ("Rev3 Fedora 12 mozilla-central opt test crashtest", "other"),
        ("", None),
        (None, None),
    ],
)
def test_platform_cases(name: str | None, platform: str | None) -> None:
    assert classify.platform(name) == platform


@pytest.mark.parametrize(
    ("name", "build_type", "job_type"),
    [
        ("Linux x86-64 mozilla-central debug build", "debug", "build"),
        ("Linux x86-64 mozilla-central leak test build", "debug", "build"),
        ("Linux x86-64 mozilla-central build", "opt", "build"),
        ("Ubuntu VM 12.04 x64 try debug test xpcshell", "debug", "unittest"),
        ("Windows 7 32-bit try talos tp5o", "opt", "talos"),
        ("Linux mozilla-central nightly", "opt", "build"),
        ("Firefox mozilla-central linux l10n nightly-1", None, "repack"),
        ("Linux x86-64 mozilla-central xulrunner", "opt", "build"),
        ("unknown", None, None),
        ("", None, None),
    ],
)
def test_build_and_job_type_cases(name: str, build_type: str | None, job_type: str | None) -> None:
    assert classify.build_type(name) == build_type
    assert classify.job_type(name) == job_type


@pytest.mark.parametrize(
    ("branch", "report_branch"),
    [
        ("mozilla-central", "mozilla-central"),
        ("Mozilla-Central", "mozilla-central"),
        ("try", "try"),
        ("tryserver-foo", "try"),
        ("try-comm-central", "try-comm-central"),
        ("projects/cedar", "cedar"),
        ("cedar", "cedar"),  # "cedar" needs one more character, or the projects/ path
        ("cedar2", "cedar"),
        ("maple", "maple"),
        ("releases/mozilla-1.9.2", "mozilla-1.9.2"),
        ("projects/nanojit-central", "nanojit-central"),
        ("integration/mozilla-inbound", "integration/mozilla-inbound"),
        ("", None),
        (None, None),
    ],
)
def test_report_branch_cases(branch: str | None, report_branch: str | None) -> None:
    assert classify.report_branch(branch) == report_branch


def test_report_branch_names_are_the_table_in_order() -> None:
    assert classify.REPORT_BRANCH_NAMES[0] == "nanojit-central"
    assert classify.REPORT_BRANCH_NAMES[-1] == "mozilla-central"
    assert len(classify.REPORT_BRANCH_NAMES) == 14


@pytest.mark.parametrize(
    ("slave", "silo"),
    [
        ("panda-0042", "panda"),
        ("talos-mtnlion-r5-012", "talos-mtnlion-r5"),
        ("bld-linux64-ec2-3", "bld-linux64-ec2"),
        ("panda-relay", None),
        ("mystery-001", None),
        (None, None),
    ],
)
def test_silo_cases(slave: str | None, silo: str | None) -> None:
    assert classify.silo(slave) == silo
