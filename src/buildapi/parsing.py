"""Parsing helpers shared by every HTTP face (the web API and the farm's masters)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from buildapi.errors import BadInput

# The one form of an integer in text: ASCII digits, maybe a leading minus. Not what int() also
# takes: `+5`, `1_000`, ` 7 `, other scripts' digits (`１２٣` is 123 to int()).
INTEGER = re.compile(r"-?[0-9]+")


def json_field(fields: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    """A JSON value of type `kind`: as is from a JSON body, or as a JSON string in a form."""
    value = fields.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise BadInput(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, kind):
        raise BadInput(f"{name} must be a JSON {_json_name(kind)}")
    return value


def parse_int(text: str, name: str) -> int:
    """`text` as an integer when it has the one accepted form; a 400 naming `name` otherwise."""
    if not INTEGER.fullmatch(text):
        raise BadInput(f"{name} must be an integer in ASCII digits (no sign but -), not {text!r}")
    return int(text)


def _json_name(kind: type) -> str:
    return {dict: "object", list: "list"}.get(kind, kind.__name__)
