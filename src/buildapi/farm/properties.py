"""Build properties as Mozilla's masters set them: on buildsets (schedulerdb) and on builds
(statusdb), with the names, types and shapes the real builds-4hr dumps show for each kind of
build (docs/farm.md, Properties)."""

from __future__ import annotations

import datetime
import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.farm.digests import number, share
from buildapi.farm.selection import is_debug
from buildapi.farm.uploads import (
    ARCHIVE,
    Upload,
    package_properties,
    stage_platform,
    update_properties,
    upload_of,
    version,
)
from buildapi.layout import Builder, Master
from buildapi.vocabulary import Result, is_good

BLOBBER = "https://blobupload.example/blobs"
BUILD_KINDS = frozenset({"build", "nightly", "pgo"})  # they compile and upload a package
OWN_DIRECTORY_KINDS = BUILD_KINDS | {"l10n"}  # a build directory of their own on the slave
TEST_KINDS = frozenset({"test", "talos"})
APP_NAMES = {"firefox": "Firefox", "fennec": "Fennec"}
PURGE_TARGETS = (10, 12, 14)  # free gigabytes a build slave's purge step asks for
LOCALES = (
    "ach", "af", "an", "ar", "as", "ast", "az", "be", "bg", "bn-BD", "bn-IN", "br", "bs", "ca",
    "cs", "cy", "da", "de", "dsb", "el", "en-GB", "en-ZA", "eo", "es-AR", "es-CL", "es-ES",
    "es-MX", "et", "eu", "fa", "ff", "fi", "fr", "fy-NL", "ga-IE", "gd", "gl", "gu-IN", "he",
    "hi-IN",
)  # fmt: skip
LOCALES_PER_CHUNK = 10


def buildset_properties(
    rng: random.Random, branch: str, scheduler: str, when: float, zone: ZoneInfo
) -> dict[str, tuple[Any, str]]:
    """What a scheduler puts on a new buildset: the build id (local time) and a unique uid."""
    stamp = datetime.datetime.fromtimestamp(when, zone).strftime("%Y%m%d%H%M%S")
    return {
        "branch": (branch, "Scheduler"),
        "buildid": (stamp, "Scheduler"),
        "builduid": (f"{rng.getrandbits(128):032x}", "Scheduler"),
        "scheduler": (scheduler, "Scheduler"),
    }


@dataclass(frozen=True)
class BuildFacts:
    """What the statusdb properties of one build are made of. `pusher` and `comments` are
    those of the push the build is of (its sourcestamp's newest change); a periodic build's
    sourcestamp has no changes."""

    buildername: str
    builder: Builder
    master: Master
    slave: str
    number: int
    revision: str | None
    request_times: Mapping[int, float]
    buildset: Mapping[str, tuple[Any, str]]
    pusher: str | None = None
    comments: str = ""

    @property
    def buildid(self) -> str:
        return str(_value(self.buildset, "buildid") or "")

    @property
    def run(self) -> str:
        """Names this one build, so the values made from it are its own."""
        return f"{self.master.name}\0{self.buildername}\0{self.number}"


def start_properties(facts: BuildFacts) -> dict[str, Any]:
    found = _common_properties(facts)
    if facts.builder.kind == "idle":  # no scheduler asked for it: no buildset, revision or times
        return {name: value for name, value in found.items() if value is not None}
    return {**found, **_kind_properties(facts)}


def _common_properties(facts: BuildFacts) -> dict[str, Any]:
    """What every build has from its start."""
    builder = facts.builder
    platform = builder.properties.platform
    stage = stage_platform(builder.kind, facts.buildername, platform)
    request_ids = sorted(facts.request_times)
    return {
        "basedir": _slave_path(platform, _workdir(builder)),
        "branch": builder.properties.branch,
        "buildername": facts.buildername,
        "buildid": _value(facts.buildset, "buildid"),
        "buildnumber": facts.number,
        "builduid": _value(facts.buildset, "builduid"),
        "master": f"{facts.master.http_url}/",
        "platform": platform if builder.kind == "pgo" else stage,  # `linux64-debug`, not `-pgo`
        "product": builder.properties.product,
        "project": "",
        "repo_path": getattr(builder.properties, "repo_path", ""),
        "repository": "",
        "request_ids": request_ids,
        "request_times": {str(brid): facts.request_times[brid] for brid in request_ids},
        "revision": facts.revision,
        "scheduler": _value(facts.buildset, "scheduler"),
        "script_repo_revision": "production",
        "slavebuilddir": _workdir(builder),
        "slavename": facts.slave,
        "stage_platform": stage,
    }


def _kind_properties(facts: BuildFacts) -> dict[str, Any]:
    """What only some kinds of build have from their start."""
    builder = facts.builder
    kind, branch = builder.kind, builder.properties.branch
    found: dict[str, Any] = {}
    if kind in OWN_DIRECTORY_KINDS:
        workdir = _workdir(builder)
        platform = builder.properties.platform
        found.update(builddir=workdir, toolsdir=_slave_path(platform, workdir, "tools"))
    if kind in BUILD_KINDS:
        found.update(_clobber_properties(facts), comments=facts.comments)
    if kind == "build" and branch == "try" and facts.pusher:
        found["who"] = facts.pusher  # Treeherder shows it as the try push's author
    if kind == "nightly":
        found["nightly_build"] = True
    if kind in TEST_KINDS:
        found.update(_tested_build_properties(facts))
    if kind == "talos":
        found["builddir"] = builder.shortname
    if kind == "l10n":
        found.update(locales=_locales(facts.buildername), version=version(branch))
    return found


def finish_properties(facts: BuildFacts, result: int) -> dict[str, Any]:
    builder = facts.builder
    kind = builder.kind
    log = f"{builder.shortname}-{facts.master.name}-build{facts.number}.txt.gz"
    extra: dict[str, Any] = {"log_url": f"{_log_folder(facts)}/{log}"}
    if kind != "idle":  # idle jobs check nothing out
        extra["got_revision"] = (facts.revision or "")[:12]
    if kind in BUILD_KINDS and is_good(result):
        upload = _own_upload(facts)
        product = builder.properties.product
        extra.update(package_properties(upload, facts.run), **_measurements(facts))
        extra["appName"] = APP_NAMES.get(product, product.capitalize())
        extra["appVersion"] = version(builder.properties.branch)
        if kind == "nightly":
            extra.update(update_properties(upload, facts.buildid, facts.run))
    if kind in TEST_KINDS:
        files = {"log_raw.log": f"{BLOBBER}/{facts.slave}/{facts.number}/raw"}
        if result == Result.WARNINGS:
            files["screenshot.png"] = f"{BLOBBER}/{facts.slave}/{facts.number}/png"
        extra["blobber_files"] = json.dumps(files, sort_keys=True)
    return extra


def _own_upload(facts: BuildFacts) -> Upload:
    return upload_of(
        facts.builder,
        facts.builder.kind,
        facts.buildername,
        facts.buildid,
        facts.revision,
        facts.pusher,
    )


def _tested_upload(facts: BuildFacts) -> Upload | None:
    """The upload of the build a test or talos job tests: its builder's `triggered_by`, which
    has the test builder's branch, platform and product, on the same sourcestamp and buildid."""
    upstream = facts.builder.triggered_by
    if upstream is None:
        return None
    return upload_of(facts.builder, "build", upstream, facts.buildid, facts.revision, facts.pusher)


def _tested_build_properties(facts: BuildFacts) -> dict[str, Any]:
    """A test job downloads the build it tests (and a unit test its symbols) from these."""
    found: dict[str, Any] = {}
    upload = _tested_upload(facts)
    if upload is not None:
        found["build_url"] = upload.package
        if facts.builder.kind == "test":
            found["symbols_url"] = upload.symbols
    if facts.builder.properties.branch != "try":
        found["pgo_build"] = "False"  # a string: the triggering builds are never PGO ones
    return found


def _log_folder(facts: BuildFacts) -> str:
    """Builds log next to their upload, tests next to the build they test."""
    builder = facts.builder
    if builder.kind in OWN_DIRECTORY_KINDS:
        return _own_upload(facts).folder
    tested = _tested_upload(facts) if builder.kind in TEST_KINDS else None
    if tested is not None:
        return tested.folder
    product, branch = builder.properties.product, builder.properties.branch
    return f"{ARCHIVE}/{product}/tinderbox-builds/{branch}-{builder.properties.platform}"


def _clobber_properties(facts: BuildFacts) -> dict[str, Any]:
    """What the clobber and purge steps at the start of a build report."""
    target = PURGE_TARGETS[number(facts.run, "purge target", 0, len(PURGE_TARGETS) - 1)]
    free = target + 200 * share(facts.run, "free space")
    return {
        "forced_clobber": False,
        "periodic_clobber": share(facts.run, "periodic clobber") < 0.05,
        "purge_actual": f"{free:.2f}GB",
        "purge_target": f"{target}GB",
        "purged_clobber": share(facts.run, "purged clobber") < 0.4,
    }


def _measurements(facts: BuildFacts) -> dict[str, Any]:
    """What a good build reports to the graph server: opt Linux builds count static
    constructors, Windows PGO builds the memory their link took."""
    platform = facts.builder.properties.platform
    kind = facts.builder.kind
    opt = not is_debug(facts.buildername)
    if platform.startswith("linux") and kind in ("build", "pgo") and opt:
        name, label, value = "num_ctors", "num_ctors", number(facts.run, "ctors", 150, 230)
    elif platform.startswith("win") and kind == "pgo":
        value = number(facts.run, "vsize", 3_000_000_000, 3_600_000_000)
        name, label = "vsize", "libxul_link"
    else:
        return {}
    return {
        name: value,
        "sourcestamp": (facts.revision or "")[:12],
        "testresults": [[label, label, value, str(value)]],
    }


def _locales(buildername: str) -> str:
    """The locales a repack builder (`... l10n nightly-2`) repacks: its chunk of the list."""
    chunk = re.search(r"-(\d+)$", buildername)
    first = (int(chunk.group(1)) - 1 if chunk else 0) * LOCALES_PER_CHUNK % len(LOCALES)
    return ",".join(LOCALES[first : first + LOCALES_PER_CHUNK])


def _workdir(builder: Builder) -> str:
    """The slave's directory for the builder: its own for builds, a shared one for tests."""
    return builder.shortname if builder.kind in OWN_DIRECTORY_KINDS else "test"


def _slave_path(platform: str, *parts: str) -> str:
    if platform.startswith("win"):
        return "c:\\slave\\" + "\\".join(parts)
    return "/builds/slave/" + "/".join(parts)


def _value(properties: Mapping[str, tuple[Any, str]], name: str) -> Any:
    entry = properties.get(name)
    return entry[0] if entry else None
