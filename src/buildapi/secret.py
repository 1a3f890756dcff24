"""The server's secret, which signs what BuildAPI hands to browsers (the CSRF tokens).

Every web worker must hold the same one: `secret_key` when set, else a random one kept in
`data_dir`, made by whichever worker starts first.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from buildapi.config import MIN_SECRET_LENGTH, Settings
from buildapi.errors import ConfigError

SECRET_FILE = "secret_key"
SECRET_BYTES = 32  # token_urlsafe makes about 43 characters of them


def server_secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir / SECRET_FILE
    try:
        return _read(path) if path.exists() else _create(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot keep the server secret in {path}: {exc.strerror or exc}; set secret_key"
        ) from exc


def _read(path: Path) -> bytes:
    secret = path.read_bytes().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"the server secret in {path} is too short; delete the file or set secret_key"
        )
    return secret


def _create(path: Path) -> bytes:
    """Write a new secret under a temporary name, then link it into place: a worker that
    loses the race reads the winner's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    temporary = Path(name)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(SECRET_BYTES))
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return _read(path)
