"""Invented pushes: who pushed what, when, with which commit messages and files."""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "alice", "bogdan", "chen", "dana", "emilio", "fatima", "gregor", "hiro", "ines", "jakub",
    "kemal", "lena", "marco", "nadia", "oscar", "priya", "quentin", "rosa", "sven", "tomas",
)  # fmt: skip
DOMAINS = ("mozilla.com", "gmail.com", "example.org")
SUMMARIES = (
    "Fix crash when closing the last tab",
    "Make the session store flush asynchronously",
    "Remove unused prefs from the graphics layer",
    "Handle null principal in the fetch observer",
    "Speed up style recalculation for shadow trees",
    "Add telemetry for the download panel",
    "Update the bundled certificate list",
    "Avoid a leak of the media decoder on shutdown",
    "Correct the scrollbar width on high-DPI screens",
    "Port the network monitor to the new actor API",
)
DIRECTORIES = (
    "browser/base/content", "dom/base", "dom/media", "gfx/layers", "js/src/jit", "layout/style",
    "netwerk/protocol/http", "toolkit/components/places", "widget/windows", "mobile/android/base",
)  # fmt: skip
EXTENSIONS = (".cpp", ".h", ".js", ".py", ".java", ".css")
TRY_PLATFORMS = ("linux", "linux64", "macosx64", "win32", "win64", "android-api-15")
TRY_SUITES = ("mochitest-1", "mochitest-2", "reftest", "crashtest", "xpcshell", "all")
DONTBUILD_SHARE = 0.03


@dataclass(frozen=True)
class PushedChange:
    revision: str
    comments: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Push:
    author: str
    when: float
    changes: tuple[PushedChange, ...]

    @property
    def tip(self) -> PushedChange:
        return self.changes[-1]


def make_push(rng: random.Random, branch: str, when: float) -> Push:
    author = f"{rng.choice(FIRST_NAMES)}@{rng.choice(DOMAINS)}"
    count = rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]
    changes = [_change(rng) for _ in range(count)]
    tip = changes[-1]
    if branch == "try":
        changes[-1] = PushedChange(tip.revision, f"try: {try_syntax(rng)}", tip.files)
    elif rng.random() < DONTBUILD_SHARE:
        changes[-1] = PushedChange(tip.revision, f"{tip.comments} DONTBUILD", tip.files)
    return Push(author=author, when=when, changes=tuple(changes))


def _change(rng: random.Random) -> PushedChange:
    bug = rng.randint(900000, 1400000)
    reviewer = rng.choice(FIRST_NAMES)
    comments = f"Bug {bug} - {rng.choice(SUMMARIES)}. r={reviewer}"
    files = tuple(
        f"{rng.choice(DIRECTORIES)}/{_word(rng)}{rng.choice(EXTENSIONS)}"
        for _ in range(rng.randint(1, 5))
    )
    return PushedChange(revision=f"{rng.getrandbits(160):040x}", comments=comments, files=files)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 10)))


def try_syntax(rng: random.Random) -> str:
    build_types = rng.choice(("do", "o", "d"))
    platforms = sorted(rng.sample(TRY_PLATFORMS, rng.randint(1, 3)))
    suites = rng.choice((["none"], ["all"], sorted(rng.sample(TRY_SUITES[:-1], 2))))
    talos = rng.choice(("none", "none", "all"))
    return f"-b {build_types} -p {','.join(platforms)} -u {','.join(suites)} -t {talos}"
