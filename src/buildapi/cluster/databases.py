"""The cluster's private database server, PostgreSQL or MariaDB, in the state directory, and
the URL of the server that BuildAPI's three databases are then made on."""

from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from buildapi.cluster.parts import ClusterError, Part
from buildapi.cluster.programs import find_program

DATABASE_KINDS = ("postgresql", "mariadb")
SETUP_SECONDS = 120
# PostgreSQL refuses to run as root; as root, the cluster runs it as the first of these.
POSTGRESQL_USERS = ("postgres", "nobody")


@dataclass(frozen=True)
class DatabaseServer:
    """A server to start, and the URL that reaches it as a user who may create databases."""

    part: Part
    url: str


def database_server(kind: str, directory: Path, port: int) -> DatabaseServer:
    if kind == "postgresql":
        return _postgresql(directory / "postgresql", port)
    return _mariadb(directory / "mariadb", port)


def _postgresql(home: Path, port: int) -> DatabaseServer:
    user = _postgresql_user() if os.geteuid() == 0 else None
    if not (home / "PG_VERSION").is_file():
        _prepare_home(home, user)
        initdb = (find_program("initdb"), "-D", str(home), "-U", "buildapi", "--auth=trust")
        _setup("initdb", (*initdb, "-E", "UTF8", "--no-sync"), user)
    argv = (find_program("postgres"), "-D", str(home), "-p", str(port), "-k", str(home))
    argv += ("-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200")
    part = Part(
        "postgresql",
        argv,
        port=port,
        user=user,
        stop_signal=signal.SIGINT,  # fast shutdown: roll back open transactions, then stop
        shows=f"postgresql://buildapi@127.0.0.1:{port}",
    )
    return DatabaseServer(part, f"postgresql://buildapi@127.0.0.1:{port}/postgres")


def _postgresql_user() -> str:
    for name in POSTGRESQL_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ClusterError("PostgreSQL cannot run as root and there is no postgres user")


def _prepare_home(home: Path, user: str | None) -> None:
    """The data directory, owned by `user`, who must be able to reach it."""
    home.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    for parent in home.resolve().parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise ClusterError(
                f"PostgreSQL runs as {user}, who cannot reach {home} ({parent} is not "
                "searchable by others); pick a --dir it can reach, or --database-url"
            )


def _mariadb(home: Path, port: int) -> DatabaseServer:
    root = os.geteuid() == 0
    user = ("--user=root",) if root else ()
    socket = home / "mysqld.sock"
    if not (home / "mysql").is_dir():
        home.mkdir(parents=True, exist_ok=True)
        install = (find_program("mariadb-install-db"), "--no-defaults", f"--datadir={home}")
        install += ("--auth-root-authentication-method=normal", "--skip-test-db", *user)
        _setup("mariadb-install-db", install, None)
    argv = (find_program("mariadbd"), "--no-defaults", f"--datadir={home}", f"--port={port}")
    argv += ("--bind-address=127.0.0.1", f"--socket={socket}", f"--pid-file={home}/mariadb.pid")
    argv += ("--skip-log-bin", *user)
    part = Part("mariadb", argv, port=port, shows=f"mysql://root@127.0.0.1:{port}")
    # root has no password and reaches the server over its socket (root@localhost only)
    return DatabaseServer(part, f"mysql://root@localhost/mysql?unix_socket={socket}")


def _setup(name: str, argv: tuple[str, ...], user: str | None) -> None:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=SETUP_SECONDS, user=user, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ClusterError(f"{name} failed: {exc}") from None
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ClusterError(f"{name} failed: {' / '.join(output)}")
