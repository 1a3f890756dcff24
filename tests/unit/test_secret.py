"""The server secret: `secret_key` when set, else one random file that every worker shares."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from buildapi.config import Settings
from buildapi.errors import ConfigError
from buildapi.secret import SECRET_FILE, server_secret


def test_workers_sharing_a_data_dir_share_one_random_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(lambda _: server_secret(settings), range(8)))
    assert len(secrets) == 1 and len(secrets.pop()) >= 32
    path = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [SECRET_FILE]
    assert server_secret(Settings(data_dir=tmp_path / "other")) != server_secret(settings)


def test_the_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40)
    assert server_secret(settings) == b"k" * 40
    assert not (tmp_path / SECRET_FILE).exists()


def test_a_short_configured_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(secret_key="short")


def test_a_data_dir_that_cannot_hold_it_names_the_way_out(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="set secret_key"):
        server_secret(Settings(data_dir=blocker / "data"))


def test_a_damaged_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("short")
    with pytest.raises(ConfigError, match="too short"):
        server_secret(Settings(data_dir=tmp_path))
