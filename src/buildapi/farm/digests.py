"""Values made from a build's identity rather than drawn at random (hashes, sizes, disk space):
the same build always gets the same ones, and the farm's random stream, which decides every
push and build, is left untouched by adding or removing one."""

from __future__ import annotations

import hashlib

_SPAN = float(16**8)


def digest(key: str, label: str) -> str:
    """A sha512 hex digest, as the archive lists for each uploaded file."""
    return hashlib.sha512(f"{label}\0{key}".encode()).hexdigest()


def share(key: str, label: str) -> float:
    """A number in [0, 1), the same for the same key and label."""
    return int(digest(key, label)[:8], 16) / _SPAN


def number(key: str, label: str, low: int, high: int) -> int:
    """A whole number in [low, high]."""
    return low + int(share(key, label) * (high - low + 1))
