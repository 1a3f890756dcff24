"""Where the servers' programs are: on PATH, or where Debian's packages keep the ones that are
not on it (PostgreSQL's server programs per major version, RabbitMQ's unwrapped scripts)."""

from __future__ import annotations

import glob
import re
import shutil
from pathlib import Path

from buildapi.cluster.parts import ClusterError

# Searched before PATH: Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user,
# which cannot write the cluster's directory; the script it wraps runs as the caller.
PRIVATE_DIRS = ("/usr/lib/rabbitmq/bin",)
POSTGRESQL_DIRS = "/usr/lib/postgresql/*/bin"
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
PACKAGES = {
    "epmd": "rabbitmq-server",
    "rabbitmq-server": "rabbitmq-server",
    "initdb": "postgresql",
    "postgres": "postgresql",
    "mariadb-install-db": "mariadb-server",
    "mariadbd": "mariadb-server",
    "redis-server": "redis-server",
    "nginx": "nginx",
}


def find_program(name: str) -> str:
    """The path of program `name`, or a ClusterError saying which package has it."""
    for directory in (*PRIVATE_DIRS, *_postgresql_dirs()):
        candidate = Path(directory) / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name) or shutil.which(name, path=":".join(SBIN_DIRS))
    if found:
        return found
    package = PACKAGES.get(name, name)
    raise ClusterError(f"{name} not found on PATH (Debian package {package})")


def _postgresql_dirs() -> list[str]:
    """Debian's PostgreSQL program directories, newest major version first."""

    def version(path: str) -> int:
        found = re.search(r"/(\d+)/bin$", path)
        return int(found.group(1)) if found else 0

    return sorted(glob.glob(POSTGRESQL_DIRS), key=version, reverse=True)
