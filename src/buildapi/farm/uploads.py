"""What a good build uploads to the archive, and the properties that lead consumers to it: the
package (`packageUrl`), its tests (`testsUrl`, `testPackagesUrl`: the files mozci hands a
test job it triggers), crash symbols, a JS shell and, for a desktop nightly, its update MARs.
Folders and file names follow Mozilla's archive of the time; tests and talos find the build
they test by the same rules (`docs/farm.md`, Properties)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from buildapi.farm.digests import digest, number
from buildapi.farm.selection import is_debug
from buildapi.layout import Builder

ARCHIVE = "https://archive.mozilla.example/pub"
ARCHIVE_PRODUCTS = {"fennec": "mobile"}  # the archive's folder, where not the product's name
# The version a branch builds; the branches not listed build the trunk's.
VERSIONS = {"mozilla-release": "44.0", "mozilla-beta": "45.0", "mozilla-aurora": "46.0a2"}
TRUNK_VERSION = "47.0a1"
# platform -> (the platform in file names, the package's extension); others: (platform, tar.bz2)
PACKAGES = {
    "linux": ("linux-i686", "tar.bz2"),
    "linux64": ("linux-x86_64", "tar.bz2"),
    "macosx64": ("mac", "dmg"),
    "win32": ("win32", "zip"),
    "win64": ("win64", "zip"),
    "android-api-15": ("android-arm", "apk"),
}
INSTALLER_PLATFORMS = frozenset({"win32", "win64"})
PACKAGE_BYTES = (35_000_000, 80_000_000)
INSTALLER_BYTES = (30_000_000, 45_000_000)
COMPLETE_MAR_BYTES = (40_000_000, 60_000_000)
PARTIAL_MAR_BYTES = (2_000_000, 9_000_000)
BUILD_ID = "%Y%m%d%H%M%S"
UPDATE_DIR = "build/obj-firefox/dist/update"


@dataclass(frozen=True)
class Upload:
    """Where a build's files go and what they are called."""

    folder: str
    stem: str  # `firefox-47.0a1.en-US.linux-x86_64`
    tag: str  # the platform in file names: `linux-x86_64`
    extension: str
    platform: str

    def file(self, suffix: str) -> str:
        return f"{self.folder}/{self.stem}{suffix}"

    @property
    def package(self) -> str:
        return self.file(f".{self.extension}")

    @property
    def symbols(self) -> str:
        return self.file(".crashreporter-symbols.zip")


def version(branch: str) -> str:
    return VERSIONS.get(branch, TRUNK_VERSION)


def stage_platform(kind: str, buildername: str, platform: str) -> str:
    """The platform a build's folder is named after: `linux64-debug`, `win32-pgo`."""
    if kind == "pgo":
        return f"{platform}-pgo"
    if kind == "build" and is_debug(buildername):
        return f"{platform}-debug"
    return platform


def upload_of(
    builder: Builder,
    kind: str,
    buildername: str,
    buildid: str,
    revision: str | None,
    pusher: str | None,
) -> Upload:
    """The upload of a build of `buildername`: try builds go to the pusher's folder, nightly
    builds and their repacks to the day's folder, other builds to one folder per build id."""
    properties = builder.properties
    branch, platform, product = properties.branch, properties.platform, properties.product
    tag, extension = PACKAGES.get(platform, (platform, "tar.bz2"))
    root = f"{ARCHIVE}/{ARCHIVE_PRODUCTS.get(product, product)}"
    stage = stage_platform(kind, buildername, platform)
    if branch == "try":
        folder = f"{root}/try-builds/{pusher or 'nobody'}-{(revision or '')[:12]}/try-{stage}"
    elif kind in ("nightly", "l10n"):
        dated = "-".join([buildid[:4], *(buildid[i : i + 2] for i in range(4, 14, 2))])
        repacks = "-l10n" if kind == "l10n" else ""
        folder = f"{root}/nightly/{buildid[:4]}/{buildid[4:6]}/{dated}-{branch}{repacks}"
    else:
        folder = f"{root}/tinderbox-builds/{branch}-{stage}/{buildid}"
    stem = f"{product}-{version(branch)}.en-US.{tag}"
    return Upload(folder, stem, tag, extension, platform)


def package_properties(upload: Upload, run: str) -> dict[str, Any]:
    """What the upload step sets: every file's URL, the package's name, hash and size, which
    are those of the one build `run` names (a rebuild uploads to the same folder anew)."""
    found: dict[str, Any] = {
        "filepath": None,
        "hashType": "sha512",
        "jsshellUrl": f"{upload.folder}/jsshell-{upload.tag}.zip",
        "packageFilename": upload.package.rsplit("/", 1)[-1],
        "packageHash": digest(run, "package"),
        "packageSize": str(number(run, "package", *PACKAGE_BYTES)),
        "packageUrl": upload.package,
        "symbolsUrl": upload.symbols,
        "testPackagesUrl": upload.file(".test_packages.json"),
        "testsUrl": upload.file(".tests.zip"),
    }
    if upload.platform in INSTALLER_PLATFORMS:
        found["installerFilename"] = f"{upload.stem}.installer.exe"
        found["installerHash"] = digest(run, "installer")
        found["installerSize"] = str(number(run, "installer", *INSTALLER_BYTES))
    if upload.extension == "apk":
        found["robocopApkUrl"] = f"{upload.folder}/robocop.apk"
        found["unsignedApkUrl"] = f"{upload.folder}/gecko-unsigned-unaligned.apk"
    return found


def update_properties(upload: Upload, buildid: str, run: str) -> dict[str, Any]:
    """A desktop nightly's update files: the complete MAR, and the partial one from the
    nightly a day before (Android nightlies update through their store, with no MARs)."""
    if upload.extension == "apk":
        return {}
    previous = _day_before(buildid)
    complete = f"{upload.stem}.complete.mar"
    partial = f"{upload.stem}.partial.{previous}-{buildid}.mar"
    partial_hash = digest(run, "partial")
    partial_size = str(number(run, "partial", *PARTIAL_MAR_BYTES))
    partial_url = f"{upload.folder}/{partial}"
    info = {
        "from_buildid": previous,
        "hash": partial_hash,
        "size": partial_size,
        "url": partial_url,
    }
    return {
        "completeMarFilename": complete,
        "completeMarHash": digest(run, "complete"),
        "completeMarSize": str(number(run, "complete", *COMPLETE_MAR_BYTES)),
        "completeMarUrl": f"{upload.folder}/{complete}",
        "completesnippetFilename": f"{UPDATE_DIR}/complete.update.snippet",
        "partialInfo": [info],
        "partialMarFilename": partial,
        "partialMarHash": partial_hash,
        "partialMarSize": partial_size,
        "partialMarUrl": partial_url,
        "partialsnippetFilename": f"{UPDATE_DIR}/partial.update.snippet",
        "previousMarFilename": complete,
        "previous_buildid": previous,
        "previous_inipath": "previous/application.ini",
    }


def _day_before(buildid: str) -> str:
    """The build id of the nightly a day earlier (an unreadable one is kept as it is)."""
    try:
        moment = datetime.datetime.strptime(buildid, BUILD_ID)
    except ValueError:
        return buildid
    return (moment - datetime.timedelta(days=1)).strftime(BUILD_ID)
