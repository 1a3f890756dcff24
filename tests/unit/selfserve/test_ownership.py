"""Whose a request is, read strictly off its reason, and the ceiling a user's groups give."""

from __future__ import annotations

import pytest

from buildapi.config import load_settings
from buildapi.db.queries.ownership import RequestOrigin
from buildapi.selfserve.auth import Identity
from buildapi.selfserve.ownership import Ownership, Policy, made_by


@pytest.mark.parametrize(
    ("reason", "user"),
    [
        ("Self-serve: Rebuilt by alice@example.com", "alice@example.com"),
        ("Self-serve: Requested by bob", "bob"),
        ("scheduler", None),
        (None, None),
        ("Self-serve: Rebuilt by ", None),
        (" Self-serve: Rebuilt by alice", None),
        ("self-serve: rebuilt by alice", None),
        ("Self-serve: Cancelled by alice", None),
        ("The web-page 'rebuild' button was pressed by 'alice': ", None),
        ("Self-serve: Rebuilt by alice\n", None),
    ],
)
def test_only_our_own_reasons_name_a_user(reason: str | None, user: str | None) -> None:
    assert made_by(reason) == user


def test_a_self_serve_request_is_its_users_a_scheduled_one_its_pushers() -> None:
    rebuilt = Ownership.of(RequestOrigin(1, "Self-serve: Rebuilt by Alice@Example.com", ("c",)))
    assert rebuilt.belongs_to("alice@example.com") and not rebuilt.belongs_to("c")
    pushed = Ownership.of(RequestOrigin(2, "scheduler", ("Carol <carol@example.com>", "dan")))
    assert pushed.belongs_to("carol@example.com") and pushed.belongs_to("dan")
    assert pushed.belongs_to("Carol <carol@example.com>") and not pushed.belongs_to("carol")


def test_a_user_gets_the_highest_ceiling_of_their_listed_groups() -> None:
    policy = Policy.from_settings(
        load_settings(policy_priority_ceiling={"*": 10, "low": 0, "high": 500})
    )
    assert policy.ceiling(Identity("a")) == 10
    assert policy.ceiling(Identity("b", frozenset({"low", "other"}))) == 0
    assert policy.ceiling(Identity("c", frozenset({"low", "high"}))) == 500
