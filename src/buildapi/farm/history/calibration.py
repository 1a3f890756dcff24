"""How many pushes a history needs: rates calibrated so the request count meets the target."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from buildapi.farm.farm import DEFAULT_PUSH_RATE
from buildapi.farm.history.tuning import CALIBRATION_PUSHES, OVERSAMPLE
from buildapi.farm.jobs import PROFILES
from buildapi.farm.pushes import make_push
from buildapi.farm.schedulers import DAY, PERIODIC
from buildapi.farm.selection import Selector
from buildapi.farm.trychooser import TrySelection
from buildapi.layout import FarmLayout
from buildapi.vocabulary import Result, is_good

# -- how many pushes: rates calibrated so the request count meets the target ----------------


def good_build_share() -> float:
    """Chance that a build ends good (and requests its tests), retries being run again."""
    weights = dict(PROFILES["build"].results)
    good = sum(weight for result, weight in weights.items() if is_good(result))
    return good / (sum(weights.values()) - weights.get(Result.RETRY, 0.0))


@dataclass(frozen=True)
class Calibration:
    rates: dict[str, float]  # candidate pushes per second, per branch
    periodic: bool  # whether nightly and PGO builds fit in the target
    target: float  # build requests to make by `end`
    hourly: float  # build requests to make per hour


def calibrate(
    layout: FarmLayout,
    selector: Selector,
    *,
    days: float,
    jobs_per_day: int,
    push_rates: Mapping[str, float],
    seed: int,
) -> Calibration:
    """Scale the branches' relative push rates to the target, from sample pushes."""
    rng = random.Random(seed)
    good = good_build_share()
    per_push: dict[str, float] = {}  # branch -> requests per push, tests included
    for branch in sorted(layout.branches):
        samples = [make_push(rng, branch, 0) for _ in range(CALIBRATION_PUSHES)]
        per_push[branch] = sum(
            len(names) + expected_tests(selector, names, selection, good)
            for names, selection in (
                selector.for_push(branch, push.tip.comments) for push in samples
            )
        ) / len(samples)
    base = {b: push_rates.get(b, DEFAULT_PUSH_RATE) for b in sorted(layout.branches)}
    periodic_per_day = sum(
        DAY / interval * len(selector.periodic(branch, kinds))
        for branch in layout.branches
        for interval, kinds in PERIODIC.values()
    )
    periodic = periodic_per_day <= jobs_per_day / 2
    wanted = jobs_per_day - (periodic_per_day if periodic else 0.0)
    per_day = sum(rate * 24 * per_push[b] for b, rate in base.items())
    scale = wanted / per_day if per_day > 0 else 0.0
    return Calibration(
        rates={b: rate * scale * OVERSAMPLE / 3600 for b, rate in base.items()},
        periodic=periodic,
        target=days * jobs_per_day,
        hourly=jobs_per_day / 24,
    )


def expected_tests(
    selector: Selector, builds: Iterable[str], selection: TrySelection | None, good: float
) -> float:
    """How many test requests these build requests should trigger, on average."""
    return sum(len(selector.tests_for(name, selection)) for name in builds) * good
