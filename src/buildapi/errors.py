"""Domain errors raised below the web layer; web/ maps each to an HTTP status."""


class BuildAPIError(Exception):
    """Base class: the message is shown to the client as is."""

    def __init__(self, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.headers = headers or {}


class BadInput(BuildAPIError):
    """A parameter has the wrong type, range or shape."""


# What the Basic prompt says (where a browser still shows the realm): who to sign in as.
BASIC_CHALLENGE = 'Basic realm="BuildAPI: your e-mail address and API token"'


class Unauthenticated(BuildAPIError):
    """No credentials, or credentials that do not check out."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg, {"WWW-Authenticate": BASIC_CHALLENGE})


class Forbidden(BuildAPIError):
    """Authenticated, but not allowed to do this."""


class Unprocessable(BuildAPIError):
    """Well formed but not acceptable as it stands: an idempotency key reused for another
    request."""


class RateLimited(BuildAPIError):
    """Too many writes; `retry_after` seconds until the next one is allowed."""

    def __init__(self, msg: str, retry_after: int) -> None:
        super().__init__(msg, {"Retry-After": str(retry_after)})


class NotFound(BuildAPIError):
    """An unknown branch, build, request, job, revision or route."""


class Conflict(BuildAPIError):
    """The object exists but its state does not allow the action."""


class Unavailable(BuildAPIError):
    """A service we depend on (database, broker) cannot be reached."""


class ConfigError(BuildAPIError):
    """The configuration (file, environment or farm layout) is unusable."""


class UnsupportedSchema(BuildAPIError):
    """The scheduler database is not one BuildAPI can work on (another Buildbot's schema)."""
