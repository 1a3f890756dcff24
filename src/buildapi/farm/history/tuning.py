"""Numbers that shape a history: how fast candidate pushes come, what is remembered."""

from __future__ import annotations

# Candidate pushes arrive this many times faster than needed; only those that bring the count
# closer to the target line are kept, so small histories land near the target too.
OVERSAMPLE = 3.0
# When a busy farm merges requests and so makes fewer tests per push than calibrated, the
# count falls behind; candidates then come faster, by how many hours of requests it is behind,
# up to this factor.
MAX_BOOST = 20.0
CALIBRATION_PUSHES = 200
STATUS_TEXT = 50  # statusdb keeps 50 characters of a sourcestamp's branch and revision
# Property values tied to one push, buildset or build: remembered for two simulated days
# only (retries and merged builds reuse them within hours). Other names have few values,
# remembered for the whole run.
SHORT_LIVED_PROPERTIES = frozenset(
    {
        "blobber_files", "build_url", "buildid", "builduid", "comments", "completeMarHash",
        "completeMarSize", "completeMarUrl", "got_revision", "installerHash", "installerSize",
        "jsshellUrl", "log_url", "packageHash", "packageSize", "packageUrl", "partialInfo",
        "partialMarFilename", "partialMarHash", "partialMarSize", "partialMarUrl",
        "previous_buildid", "purge_actual", "request_ids", "request_times", "revision",
        "robocopApkUrl", "sourcestamp", "symbolsUrl", "symbols_url", "testPackagesUrl",
        "testresults", "testsUrl", "unsignedApkUrl", "vsize",
    }
)  # fmt: skip
# Property values the cache keys on directly (exact types: True is not 1, "1" is not 1).
SCALARS = frozenset({str, int, type(None)})
JSON = object()  # marks a key made of a value's JSON
PUSH, PERIODIC_RUN, FINISH = range(3)
