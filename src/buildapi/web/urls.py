"""Every link and redirect is built here, so the mount prefix is handled in one place."""

from starlette.requests import Request

# A browser reads a Location starting with two of these as another site (`//host`, `/\\host`).
LEADING = "/\\"


def local_path(prefix: str, path: str) -> str:
    """`path` under `prefix`, its leading slashes and backslashes collapsed to one slash."""
    return f"{prefix}/{path.lstrip(LEADING)}"


def link(request: Request, path: str) -> str:
    """The URL path of `path` (an app path such as `/self-serve`) under the mount prefix."""
    return local_path(request.scope.get("root_path", ""), path)


def app_path(request: Request) -> str:
    """The request's path inside the app, without the mount prefix."""
    root = request.scope.get("root_path", "")
    path = request.url.path
    return path[len(root) :] if root and path.startswith(root) else path
