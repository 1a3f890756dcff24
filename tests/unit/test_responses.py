"""JSON bodies: plain encoding first, integer keys still accepted."""

from __future__ import annotations

import orjson
import pytest

from buildapi.web.responses import json_bytes


def test_string_and_integer_keys() -> None:
    assert json_bytes({"a": [1, None]}) == b'{"a":[1,null]}'
    assert json_bytes({"b": {2: "x"}, 1: True}) == b'{"b":{"2":"x"},"1":true}'


def test_what_cannot_be_encoded_still_fails() -> None:
    with pytest.raises(orjson.JSONEncodeError):
        json_bytes({"a": object()})
