"""Parsing helpers shared by every HTTP face (the web API and the farm's masters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from buildapi.errors import BadInput


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


def _json_name(kind: type) -> str:
    return {dict: "object", list: "list"}.get(kind, kind.__name__)
