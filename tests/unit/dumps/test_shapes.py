"""The pending and running trees built straight from row tuples."""

from __future__ import annotations

from buildapi.dumps.shapes import pending_shape, running_shape

NAMES = ["mozilla-inbound", "mozilla-central", "try"]
A = "a" * 40
B = "b" * 40


def test_pending_groups_rows_that_are_not_consecutive() -> None:
    rows = [
        (1, "integration/mozilla-inbound", A, "linux build", 10, 0),
        (2, "integration/mozilla-inbound", B, "linux build", 11, 0),
        (3, "integration/mozilla-inbound", A, "win build", 12, 0),
        (4, "mozilla-inbound", A, "mac build", 13, 0),  # another spelling of the same branch
        (5, None, None, "orphan", 14, 0),
    ]
    tree = pending_shape(rows, NAMES)["pending"]
    assert tree == {
        "mozilla-inbound": {
            A: [
                {"id": 1, "buildername": "linux build", "submitted_at": 10},
                {"id": 3, "buildername": "win build", "submitted_at": 12},
                {"id": 4, "buildername": "mac build", "submitted_at": 13},
            ],
            B: [{"id": 2, "buildername": "linux build", "submitted_at": 11}],
        },
        "Unknown": {"Unknown": [{"id": 5, "buildername": "orphan", "submitted_at": 14}]},
    }
    assert list(tree["mozilla-inbound"]) == [A, B], "keys in the order rows first name them"


def test_running_folds_a_merged_build_into_its_newest_request() -> None:
    """A master, builder and number; each merged request's row has its own start time."""
    merged = ("master1", "linux build", 7)
    rows = [
        (50, 1, "try", A, merged[1], 10, 20, merged[0], 100, merged[2]),
        (51, 2, "try", B, "win build", 11, 21, "master1", 101, 8),
        (52, 3, "try", B, merged[1], 12, 22, merged[0], 101, merged[2]),
        (53, 4, "try", B, merged[1], 13, 23, "master2", 100, merged[2]),
    ]
    tree = running_shape(rows, NAMES)["running"]
    assert tree == {
        "try": {
            B: [
                {
                    "id": 52,
                    "revision": B,
                    "request_ids": [1, 3],
                    "submitted_at": 10,
                    "buildername": "linux build",
                    "last_heartbeat": 20,
                    "claimed_by_name": "master1",
                    "start_time": 100,
                    "number": 7,
                },
                {
                    "id": 51,
                    "revision": B,
                    "request_ids": [2],
                    "submitted_at": 11,
                    "buildername": "win build",
                    "last_heartbeat": 21,
                    "claimed_by_name": "master1",
                    "start_time": 101,
                    "number": 8,
                },
                {
                    "id": 53,
                    "revision": B,
                    "request_ids": [4],
                    "submitted_at": 13,
                    "buildername": "linux build",
                    "last_heartbeat": 23,
                    "claimed_by_name": "master2",
                    "start_time": 100,
                    "number": 7,
                },
            ]
        }
    }
