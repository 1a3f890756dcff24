"""The fields each write reads, as /openapi.json describes its request body.

The routes read the fields by hand (web/forms.py), from the query string as well as the body,
so that errors keep their legacy messages; these models only document them. One model per
body, sent as a form or as JSON: a form carries integers as text and `properties` and `files`
as JSON text (the form encoding of objects and lists that OpenAPI assumes). Fields that are
not described are ignored, so the bodies stay open."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from buildapi.config import PRIORITY_RANGE
from buildapi.web.params import MAX_ID

COUNT_RANGE = (1, 100)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
# Form fields that carry JSON text, for OpenAPI's `encoding`.
JSON_TEXT = {"object", "array"}

PRIORITY: dict[str, Any] = {
    "ge": PRIORITY_RANGE[0],
    "le": PRIORITY_RANGE[1],
    "description": "up to the user's ceiling (`policy_priority_ceiling`); above it is a 403",
}


class Fields(BaseModel):
    model_config = ConfigDict(extra="allow")

    csrf_token: str | None = Field(
        None, description="the token of the page's form; a script sends none"
    )


class AtPriority(Fields):
    """The nightly and PGO builds of a revision."""

    priority: int = Field(0, **PRIORITY)


class Rebuild(AtPriority):
    count: int = Field(
        1,
        ge=COUNT_RANGE[0],
        le=COUNT_RANGE[1],
        description="builds to start; each counts against `write_rate_per_minute`",
    )


class RebuildBuild(Rebuild):
    build_id: int = Field(ge=0, le=MAX_ID)


class RebuildRequest(Rebuild):
    request_id: int = Field(ge=0, le=MAX_ID)


class Reprioritize(Fields):
    priority: int = Field(**PRIORITY)


class BuildForBuilder(AtPriority):
    properties: dict[str, Any] = Field(
        default_factory=dict, description="build properties, as a JSON object"
    )
    files: list[str] = Field(
        default_factory=list, description="URLs of the files to build with, as a JSON list"
    )


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose body is `model`, as a form or as JSON."""
    schema = TypeAdapter(model).json_schema()
    encoding = {
        name: {"contentType": JSON}
        for name, field in schema["properties"].items()
        if field.get("type") in JSON_TEXT
    }
    form: dict[str, Any] = {"schema": schema}
    if encoding:
        form["encoding"] = encoding
    content = {FORM: form, JSON: {"schema": schema}}
    body = {"description": "form or JSON fields; query parameters count too", "content": content}
    return {"requestBody": {**body, "required": bool(schema.get("required"))}}
