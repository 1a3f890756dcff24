"""The action table: one function for every action of the job-request contract, and nothing
else, so a new action cannot be accepted by the web and then be unknown to the agent."""

from __future__ import annotations

import inspect

from buildapi.agent.actions import HANDLERS, Context
from buildapi.selfserve.messages import ACTIONS, JobRequest


def test_the_table_covers_exactly_the_contract() -> None:
    assert set(HANDLERS) == set(ACTIONS)


def test_every_action_is_named_after_its_function() -> None:
    for name, action in HANDLERS.items():
        assert action.__name__ == name
        parameters = list(inspect.signature(action).parameters.values())
        assert [parameter.annotation for parameter in parameters] == [
            JobRequest.__name__,
            Context.__name__,
        ]
