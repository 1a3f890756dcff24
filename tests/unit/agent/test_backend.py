"""Every backend has every farm operation the actions use, with the interface's parameters."""

from __future__ import annotations

import inspect

import pytest

from buildapi.agent.backend import Backend
from buildapi.agent.buildbot08 import Buildbot08Backend

OPERATIONS = sorted(
    name
    for name, member in vars(Backend).items()
    if inspect.isfunction(member) and not name.startswith("_")
)


def test_the_interface_has_the_operations() -> None:
    assert {"cancel_if_pending", "copy_buildset", "stop_build", "send_change"} <= set(OPERATIONS)


@pytest.mark.parametrize("backend", [Buildbot08Backend])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_backend_fills_the_interface(backend: type, operation: str) -> None:
    expected = inspect.signature(getattr(Backend, operation))
    assert inspect.signature(getattr(backend, operation)) == expected
