"""The steps of a finished build, as Buildbot's status plugin recorded them in statusdb: a few
named steps in sequence that tile the build from start to end. Shared by the live farm and the
history, so both write the same kind of steps; the test-run report reads them (test steps
against the whole build), so test steps carry the names it knows and most of a test build."""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass

from buildapi.db.queries.status_builds import StatusStep as Step
from buildapi.farm.selection import suite_of
from buildapi.vocabulary import Result

# Results of builds cut short (a lost slave, a retry): only their first steps ran. A stopped
# build is cut short too, though it ends as a plain FAILURE.
CUT_SHORT = frozenset({Result.EXCEPTION, Result.RETRY})
JITTER = (0.75, 1.25)  # each step's share of a build varies by this factor
PERFORMANCE_STEP = "Run performance tests"


@dataclass(frozen=True, slots=True)
class StepTemplate:
    name: str
    weight: float  # relative share of the build
    description: str | None = None
    main: bool = False  # the step the build's result comes from (compile, the tests)
    always: bool = False  # runs after a failed main step too (reboot)


_SETUP = (StepTemplate("set props", 0.005), StepTemplate("download", 0.07))
_REBOOT = StepTemplate("reboot", 0.04, always=True)
_BUILD = (
    StepTemplate("set props", 0.005),
    StepTemplate("checkout", 0.08),
    StepTemplate("compile", 0.85, main=True),
    StepTemplate("upload", 0.065),
)
_REPACK = (
    StepTemplate("set props", 0.01),
    StepTemplate("checkout", 0.15),
    StepTemplate("repack", 0.7, main=True),
    StepTemplate("upload", 0.1),
)
_IDLE = (
    StepTemplate("set props", 0.01),
    StepTemplate("clean up", 0.8, main=True),
    StepTemplate("reboot", 0.19, always=True),
)
TEST_SHARE = 0.85  # of a test or talos build, shared by its test steps

# Test suite (the builder name's last word) -> the steps that run it, first match wins. The
# names are those of the legacy test-run report's list; "mochitest-N" is a chunk of plain
# mochitests. That list predates web-platform-tests, whose runs (reftests and testharness
# tests) are recorded as a reftest step, the suite in the description.
SUITE_STEPS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), names)
    for pattern, names in (
        (
            r"mochitest-other$",
            (
                "mochitest-chrome",
                "mochitest-browser-chrome",
                "mochitest-a11y",
                "mochitest-ipcplugins",
            ),
        ),
        (r"mochitest-(browser|devtools)-chrome", ("mochitest-browser-chrome",)),
        (r"mochitest-chrome", ("mochitest-chrome",)),
        (r"mochitest-a11y", ("mochitest-a11y",)),
        (r"mochitest-ipcplugins", ("mochitest-ipcplugins",)),
        (r"mochitest", ("mochitest-plain",)),
        (r"crashtest", ("crashtest",)),
        (r"jsreftest", ("jsreftest",)),
        (r"(plain-)?reftest", ("reftest",)),
        (r"xpcshell", ("xpcshell",)),
        (r"web-platform-tests", ("reftest",)),
    )
)
_CHUNK = re.compile(r"mochitest(?:-plain)?-(\d+)$")


def suite_step_names(suite: str) -> tuple[str, ...]:
    """The steps that run a unit-test suite; an unknown suite runs one step of its own name."""
    chunk = _CHUNK.match(suite)
    if chunk:
        return (f"mochitest-plain-{chunk.group(1)}",)
    for pattern, names in SUITE_STEPS:
        if pattern.match(suite):
            return names
    return (suite,)


@functools.lru_cache(maxsize=4096)
def templates(buildername: str, kind: str) -> tuple[StepTemplate, ...]:
    """The steps a builder's builds run, from its kind (and suite, for tests and talos).
    Cached: a farm has a few hundred builders and finishes thousands of builds."""
    if kind in ("test", "talos"):
        suite = suite_of(buildername)
        names = (PERFORMANCE_STEP,) if kind == "talos" else suite_step_names(suite)
        description = f"talos {suite}" if kind == "talos" else suite
        share = TEST_SHARE / len(names)
        tests = tuple(StepTemplate(n, share, description, main=True) for n in names)
        return (*_SETUP, *tests, _REBOOT)
    if kind == "l10n":
        return _REPACK
    if kind == "idle":
        return _IDLE
    return _BUILD


@functools.lru_cache(maxsize=4096)
def _after_failure(buildername: str, kind: str) -> tuple[StepTemplate, ...]:
    """The steps a failed build runs: up to its first main step, then only main steps and
    those that always run."""
    chosen = templates(buildername, kind)
    first = next((i for i, t in enumerate(chosen) if t.main), len(chosen))
    return tuple(t for i, t in enumerate(chosen) if i <= first or t.main or t.always)


def plan_steps(
    rng: random.Random,
    buildername: str,
    kind: str,
    start: int,
    end: int,
    result: int,
    *,
    stopped: bool = False,
) -> list[Step]:
    """The steps of a build of `buildername` that ran from `start` to `end` (epoch seconds)
    and ended with `result`: in order, each starting where the previous one ended. A build
    cut short (or `stopped`) ran only its first steps, the last one ending with its result; a
    failed build skips what follows its failed main step (upload), except steps that always
    run; main steps carry a failure or warnings. Called for every finished build, so lean."""
    cut_short = stopped or result in CUT_SHORT
    if cut_short:
        chosen = templates(buildername, kind)
        chosen = chosen[: rng.randint(1, len(chosen))]
    elif result == Result.FAILURE:
        chosen = _after_failure(buildername, kind)
    else:
        chosen = templates(buildername, kind)
    low, high = JITTER
    spread, draw = high - low, rng.random
    weights = [t.weight * (low + spread * draw()) for t in chosen]
    scale = (end - start) / sum(weights)
    marked = not cut_short and result in (Result.WARNINGS, Result.FAILURE)
    steps, at, done = [], start, 0.0
    for template, weight in zip(chosen, weights, strict=True):
        done += weight
        until = start + int(done * scale + 0.5)
        status = result if marked and template.main else Result.SUCCESS
        steps.append(Step(template.name, template.description, at, until, status))
        at = until
    last = steps[-1]  # rounding aside, it ends with the build
    steps[-1] = last._replace(end=end, status=result if cut_short else last.status)
    return steps


def steps_rng(seed: int) -> random.Random:
    """The random stream of step lengths, apart from the farm's own: adding steps changes no
    push, build or result of a seed."""
    return random.Random(f"{seed}/steps")
