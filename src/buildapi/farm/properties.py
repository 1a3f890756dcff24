"""Build properties as Mozilla's masters set them: on buildsets (schedulerdb) and on finished
builds (statusdb), with the names consumers read (see the builds-4hr samples)."""

from __future__ import annotations

import datetime
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.farm.jobs import WARNINGS, is_good
from buildapi.layout import Builder, Master

ARCHIVE = "https://archive.mozilla.example/pub"
BLOBBER = "https://blobupload.example/blobs"


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


def start_properties(facts: BuildFacts) -> dict[str, Any]:
    builder = facts.builder
    platform = builder.properties.platform
    windows = platform.startswith("win")
    workdir = builder.shortname if builder.kind in ("build", "nightly", "pgo", "l10n") else "test"
    base = "c:\\slave\\" if windows else "/builds/slave/"
    request_ids = sorted(facts.request_times)
    found = {
        "basedir": f"{base}{workdir}",
        "branch": builder.properties.branch,
        "buildername": facts.buildername,
        "buildid": _value(facts.buildset, "buildid"),
        "buildnumber": facts.number,
        "builduid": _value(facts.buildset, "builduid"),
        "master": f"{facts.master.http_url}/",
        "platform": platform,
        "product": builder.properties.product,
        "project": "",
        "repo_path": getattr(builder.properties, "repo_path", ""),
        "repository": "",
        "request_ids": request_ids,
        "request_times": {str(brid): facts.request_times[brid] for brid in request_ids},
        "revision": facts.revision,
        "scheduler": _value(facts.buildset, "scheduler"),
        "script_repo_revision": "production",
        "slavebuilddir": workdir,
        "slavename": facts.slave,
        "stage_platform": platform,
    }
    if builder.kind == "idle":  # no scheduler asked for it: no buildset, revision or times
        return {name: value for name, value in found.items() if value is not None}
    return found


def finish_properties(facts: BuildFacts, result: int) -> dict[str, Any]:
    builder = facts.builder
    branch = builder.properties.branch
    platform = builder.properties.platform
    folder = f"{ARCHIVE}/{builder.properties.product}/tinderbox-builds/{branch}-{platform}"
    slug = facts.buildername.lower().replace(" ", "_").replace("+", "")
    master_label = facts.master.name.split("-", 1)[0]
    extra: dict[str, Any] = {
        "log_url": f"{folder}/{slug}-{master_label}-build{facts.number}.txt.gz",
    }
    if builder.kind != "idle":  # idle jobs check nothing out
        extra["got_revision"] = (facts.revision or "")[:12]
    if builder.kind in ("build", "nightly", "pgo") and is_good(result):
        package = f"{folder}/{_value(facts.buildset, 'buildid')}/{builder.properties.product}"
        extra["packageUrl"] = f"{package}.tar.bz2"
        extra["build_url"] = f"{package}.tar.bz2"
    if builder.kind in ("test", "talos"):
        files = {"log_raw.log": f"{BLOBBER}/{facts.slave}/{facts.number}/raw"}
        if result == WARNINGS:
            files["screenshot.png"] = f"{BLOBBER}/{facts.slave}/{facts.number}/png"
        extra["blobber_files"] = json.dumps(files, sort_keys=True)
    return extra


def _value(properties: Mapping[str, tuple[Any, str]], name: str) -> Any:
    entry = properties.get(name)
    return entry[0] if entry else None
