"""How long jobs take and how they end, per kind of job: the farm's realism is in these tables."""

from __future__ import annotations

import random
from dataclasses import dataclass

from buildapi.vocabulary import Result


@dataclass(frozen=True)
class JobProfile:
    minutes: tuple[float, float, float]  # low, mode, high of a triangular distribution
    results: tuple[tuple[int, float], ...]  # (result, weight)


_BUILD_RESULTS = (
    (Result.SUCCESS, 88.0),
    (Result.WARNINGS, 1.0),
    (Result.FAILURE, 5.0),
    (Result.EXCEPTION, 2.0),
    (Result.RETRY, 4.0),
)
_TEST_RESULTS = (
    (Result.SUCCESS, 81.0),
    (Result.WARNINGS, 11.0),
    (Result.FAILURE, 2.0),
    (Result.EXCEPTION, 1.0),
    (Result.RETRY, 5.0),
)
# Idle jobs have no request to put back, so they never end as RETRY.
_IDLE_RESULTS = ((Result.SUCCESS, 96.0), (Result.WARNINGS, 2.0), (Result.EXCEPTION, 2.0))

PROFILES = {
    "build": JobProfile((35.0, 60.0, 120.0), _BUILD_RESULTS),
    "pgo": JobProfile((120.0, 160.0, 220.0), _BUILD_RESULTS),
    "nightly": JobProfile((50.0, 80.0, 140.0), _BUILD_RESULTS),
    "l10n": JobProfile((10.0, 20.0, 40.0), _BUILD_RESULTS),
    "test": JobProfile((6.0, 18.0, 60.0), _TEST_RESULTS),
    "talos": JobProfile((15.0, 30.0, 70.0), _TEST_RESULTS),
    "idle": JobProfile((2.0, 4.0, 10.0), _IDLE_RESULTS),
}

# Windows and Mac builds are slower than Linux ones.
PLATFORM_FACTORS = {"win32": 1.4, "win64": 1.5, "macosx64": 1.2}


@dataclass(frozen=True)
class JobPlan:
    duration: float  # farm seconds
    result: int


def plan_job(rng: random.Random, kind: str, platform: str) -> JobPlan:
    profile = PROFILES[kind]
    low, mode, high = profile.minutes
    minutes = rng.triangular(low, high, mode) * PLATFORM_FACTORS.get(platform, 1.0)
    outcomes, weights = zip(*profile.results, strict=True)
    result = rng.choices(outcomes, weights=weights)[0]
    if result in (Result.EXCEPTION, Result.RETRY):
        minutes *= rng.uniform(0.05, 0.5)  # these end early
    return JobPlan(duration=round(minutes * 60.0), result=result)
