"""Domain errors raised below the web layer; web/ maps each to an HTTP status."""


class BuildAPIError(Exception):
    """Base class: the message is shown to the client as is."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class BadInput(BuildAPIError):
    """A parameter has the wrong type, range or shape."""


class NotFound(BuildAPIError):
    """An unknown branch, build, request, job, revision or route."""


class Conflict(BuildAPIError):
    """The object exists but its state does not allow the action."""


class Unavailable(BuildAPIError):
    """A service we depend on (database, broker) cannot be reached."""


class ConfigError(BuildAPIError):
    """The configuration (file, environment or farm layout) is unusable."""
