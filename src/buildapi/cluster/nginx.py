"""nginx in front of the web workers, as the authenticating proxy of a production setup: it
checks the user against an htpasswd file, sets X-Remote-User, serves BuildAPI under
/buildapi, and turns a worker that died mid-request into a 503 the client may retry."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from passlib.apache import HtpasswdFile

from buildapi.cluster.parts import Part
from buildapi.cluster.programs import find_program

MOUNT_PREFIX = "/buildapi"
USER = "dev@example.com"

CONFIG = """\
{user}
worker_processes 1;
error_log {home}/error.log;
pid {home}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log {home}/access.log;
    client_body_temp_path {home}/client_body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    upstream buildapi {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location = / {{ return 302 {prefix}/; }}
        location {prefix}/ {{
            auth_basic "BuildAPI";
            auth_basic_user_file {home}/htpasswd;
            proxy_pass http://buildapi;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Remote-User $remote_user;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502;
            proxy_intercept_errors off;
            error_page 502 504 = @unavailable;
        }}
        location @unavailable {{
            add_header Retry-After 1 always;
            default_type application/json;
            return 503 '{{"status": "FAILED", "msg": "no web worker answered; try again"}}';
        }}
    }}
}}
"""


def nginx_part(directory: Path, port: int, web_ports: list[int]) -> Part:
    home = (directory / "nginx").resolve()
    home.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{web};" for web in web_ports)
    # As root, nginx's workers would switch to nobody, who cannot read the state directory.
    user = "user root;" if os.geteuid() == 0 else ""
    config = CONFIG.format(user=user, home=home, servers=servers, port=port, prefix=MOUNT_PREFIX)
    (home / "nginx.conf").write_text(config, encoding="utf-8")
    argv = (find_program("nginx"), "-p", str(home), "-c", str(home / "nginx.conf"))
    return Part(
        "nginx",
        (*argv, "-g", "daemon off;"),
        port=port,
        shows=f"http://127.0.0.1:{port}{MOUNT_PREFIX}/",
    )


def add_user(directory: Path, user: str, password: str | None = None) -> str:
    """Let `user` in through the proxy (nginx reads the file on every request); the password."""
    password = password or secrets.token_urlsafe(12)
    path = directory / "nginx" / "htpasswd"
    path.parent.mkdir(parents=True, exist_ok=True)
    passwords = HtpasswdFile(str(path), new=not path.is_file())
    passwords.set_password(user, password)
    passwords.save()
    return password
