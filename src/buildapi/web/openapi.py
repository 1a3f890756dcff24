"""What /openapi.json says of every response, filled in once over FastAPI's generated schema.

Routes declare nothing: the statuses an operation can answer follow from what it is (a read,
which may check credentials, or a write), the content types from the formats it offers, and
the JSON Schemas of its answers from the tables in schemas.py and report_schemas.py. Responses
are still built by hand (orjson, templates): nothing here validates them at run time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, TypeAdapter

from buildapi.errors import BASIC_CHALLENGE
from buildapi.web.auth import reader
from buildapi.web.params import REVISION
from buildapi.web.report_schemas import REPORTS
from buildapi.web.schemas import READS, Accepted, Failed, HealthFailed, ReadyFailed

REF = "#/components/schemas/{model}"
WRITES = {"post", "put", "delete"}
TEXT = {"schema": {"type": "string"}}

SECURITY_SCHEMES = {
    "basic": {
        "type": "http",
        "scheme": "basic",
        "description": "the user and an API token as password (or an htpasswd password when "
        "`auth_htpasswd_file` is set)",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token from `buildapi token create`",
    },
}
CREDENTIALS = [{"basic": []}, {"bearer": []}]
SECURITY_NOTE = (
    "\n\nCredentials: HTTP Basic or a Bearer token. Behind a trusted proxy "
    "(`auth_trusted_proxies`) the proxy's header (`auth_proxy_header`, default `X-Remote-User`) "
    "names the user instead. Reads are public unless `read_requires_auth` is set, but "
    "credentials that are sent must be good. Errors are `{status: FAILED, msg}` as JSON, or "
    "an HTML page with the same JSON."
)

ERRORS = {
    400: "a bad parameter, format or body",
    401: "credentials required, or the ones sent are bad",
    403: "the user may not act on the branch, or the CSRF check failed",
    404: "an unknown branch, build, request, revision, job or other object",
    409: "the object's state does not allow the action: a cancel of a finished build or"
    " request, a reprioritize of a request that is not pending",
    422: "the Idempotency-Key was used before for a different request",
    429: "too many writes by the user in the last minute",
    503: "a database or the broker cannot be reached",
}
READ_ERRORS = (400, 404)
CREDENTIAL_ERRORS = (401, 503)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 429, 503)
# Errors with a body of their own.
ERROR_BODIES: dict[tuple[str, int], type[BaseModel]] = {
    ("/healthz", 503): HealthFailed,
    ("/readyz", 503): ReadyFailed,
}
HEADERS = {
    302: {"Location": "the job's page, or the page asked for"},
    401: {"WWW-Authenticate": BASIC_CHALLENGE},
    429: {"Retry-After": "seconds until the next write is allowed"},
}
# Reads whose 200 is not the route's formats: HTML only, or a type of their own.
ONLY_HTML = {"/reports/revision"}
OWN_TYPES = {
    "/metrics": {"text/plain": TEXT},
    "/builddata/buildjson/{name}": {"application/json": None},
    "/events": {"text/event-stream": TEXT},
}
# Reads that redirect (HTML and JSON alike) to the page a query names.
REDIRECTS = {"/self-serve/{branch}": "`rev` given", "/reports/revision": "branch and revision"}
# Reads that can miss an object although they take no path or branch parameter.
ALSO_NOT_FOUND = {"/reports/endtoend", "/reports/trychooser", "/reports/builders"}
# Reads whose path or branch parameter is a filter, not an object that may be missing.
NEVER_NOT_FOUND = {"/recent/{slave}", "/self-serve/jobs"}
SUCCESS_TYPES = {**READS, **REPORTS}
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
MEDIA = {"json": "application/json", "html": "text/html", "csv": "text/csv"}


def install_openapi(api: FastAPI) -> None:
    """Make `api.openapi()` describe every response (see the module docstring)."""
    generate = api.openapi
    described: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not described or described[0] is not schema:
            describe(schema, api.routes)
            described[:] = [schema]
        return schema

    api.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any], routes: list[Any]) -> None:
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        models.pop(name, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    schema["info"]["description"] += SECURITY_NOTE
    body = _Bodies(models)
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            _describe_operation(operation, route, method.lower(), body)


class _Bodies:
    """JSON Schemas of types, their models kept once in components.schemas."""

    def __init__(self, models: dict[str, Any]) -> None:
        self.models = models

    def __call__(self, kind: Any) -> dict[str, Any]:
        found = TypeAdapter(kind).json_schema(ref_template=REF, mode="serialization")
        for name, model in found.pop("$defs", {}).items():
            self._keep(name, model)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            self._keep(kind.__name__, found)
            return {"$ref": REF.format(model=kind.__name__)}
        return found

    def _keep(self, name: str, model: dict[str, Any]) -> None:
        kept = self.models.setdefault(name, model)
        assert kept == model, f"two schemas named {name}"


def _describe_operation(
    operation: dict[str, Any], route: RouteContext, method: str, body: _Bodies
) -> None:
    path = route.path_format
    formats = _formats(route.dependant)
    if formats:
        _restrict_format(operation, formats)
    for parameter in operation.get("parameters", ()):
        _standard_bounds(parameter["schema"])
        _checked_revision(parameter)
    write = method in WRITES
    responses = operation["responses"]
    responses.pop("422", None)
    if write:
        responses["202"] = _success("the request was recorded as a job", body(Accepted), ())
        responses["302"] = _redirect("HTML clients: to the job's page")
        statuses: tuple[int, ...] = WRITE_ERRORS
        operation["security"] = CREDENTIALS
    else:
        responses["200"] = _read_success(path, formats, body)
        if path in REDIRECTS:
            responses["302"] = _redirect(f"with {REDIRECTS[path]}: to that page")
        statuses = _read_errors(route, path, formats)
        if _checks_credentials(route):
            operation["security"] = [{}, *CREDENTIALS]
    for status in sorted({*statuses, *(int(code) for code in responses if code >= "400")}):
        failed = ERROR_BODIES.get((path, status), Failed)
        description = responses.get(str(status), {}).get("description") or ERRORS[status]
        responses[str(status)] = _error(description, body(failed), status, "csv" in formats)


def _read_success(path: str, formats: tuple[str, ...], body: _Bodies) -> dict[str, Any]:
    if path in ONLY_HTML:
        return {"description": "the page", "content": {"text/html": TEXT}}
    answer = body(SUCCESS_TYPES[path]) if path in SUCCESS_TYPES else {}
    if path in OWN_TYPES:
        content = {
            media: {"schema": answer} if c is None else c for media, c in OWN_TYPES[path].items()
        }
        return {"description": "the answer", "content": content}
    return _success("the answer", answer, formats)


def _read_errors(route: RouteContext, path: str, formats: tuple[str, ...]) -> tuple[int, ...]:
    statuses = [400] if formats else []
    may_miss = _has_path_params(route.dependant) or _has_query(route, "branch")
    if (may_miss and path not in NEVER_NOT_FOUND) or path in ALSO_NOT_FOUND:
        statuses.append(404)
    if _checks_credentials(route):
        statuses.extend(CREDENTIAL_ERRORS)
    return tuple(statuses)


def _success(description: str, answer: dict[str, Any], formats: tuple[str, ...]) -> dict[str, Any]:
    content = {"application/json": {"schema": answer}}
    content.update({MEDIA[fmt]: TEXT for fmt in formats if fmt != "json"})
    return {"description": description, "content": content}


def _redirect(description: str) -> dict[str, Any]:
    return {"description": description, "headers": _headers(302)}


def _error(description: str, failed: dict[str, Any], status: int, as_csv: bool) -> dict[str, Any]:
    """An error answer as JSON or a page; where CSV was asked for, as `status,msg` text."""
    content = {"application/json": {"schema": failed}, "text/html": TEXT}
    if as_csv:
        content["text/plain"] = TEXT
    answer = {"description": description, "content": content}
    if status in HEADERS:
        answer["headers"] = _headers(status)
    return answer


def _headers(status: int) -> dict[str, Any]:
    return {
        name: {"description": description, "required": True, "schema": {"type": "string"}}
        for name, description in HEADERS[status].items()
    }


def _standard_bounds(schema: dict[str, Any]) -> None:
    """Name the bounds of an integer parameter in JSON Schema's words. FastAPI writes them as
    pydantic's `ge` and `le` when the type carries a validator (our strict integer form), and
    clients and fuzzers cannot read those."""
    for pydantic_name, json_name in BOUNDS.items():
        if pydantic_name in schema:
            schema[json_name] = schema.pop(pydantic_name)
    for option in schema.get("anyOf", ()):
        _standard_bounds(option)


def _checked_revision(parameter: dict[str, Any]) -> None:
    """A revision is checked by hand (params.checked_revision), in the path (`revision`) and in
    a branch page's jump (`?rev=`): say its form."""
    named = (parameter["name"], parameter["in"])
    if named in (("revision", "path"), ("rev", "query")):
        parameter["schema"]["pattern"] = f"^{REVISION.pattern}$"


def _restrict_format(operation: dict[str, Any], formats: tuple[str, ...]) -> None:
    """`format` takes only the route's formats: anything else is a 400."""
    for parameter in operation.get("parameters", ()):
        if parameter["name"] == "format" and parameter["in"] == "query":
            parameter["schema"] = {"type": "string", "enum": list(formats)}


def _formats(dependant: Dependant) -> tuple[str, ...]:
    for found in _calls(dependant):
        formats = getattr(found, "formats", None)
        if formats:
            return tuple(formats)
    return ()


def _checks_credentials(route: RouteContext) -> bool:
    return any(found is reader for found in _calls(route.dependant))


def _has_path_params(dependant: Dependant) -> bool:
    """Path parameters of the endpoint or of any dependency (a report's query reads them)."""
    return bool(dependant.path_params) or any(map(_has_path_params, dependant.dependencies))


def _has_query(route: RouteContext, name: str) -> bool:
    """Taken by the route or by one of its dependencies."""
    return _takes_query(route.dependant, name)


def _takes_query(dependant: Dependant, name: str) -> bool:
    return any(param.alias == name for param in dependant.query_params) or any(
        _takes_query(sub, name) for sub in dependant.dependencies
    )


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)
