"""Settings: defaults, precedence, and one clear line for every kind of bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildapi.cli import main
from buildapi.config import Settings, load_settings
from buildapi.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "buildapi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_embedded() -> None:
    settings = load_settings()
    assert settings.broker_url == "memory://"
    assert settings.timezone == "America/Los_Angeles"
    assert settings.zone.key == "America/Los_Angeles"
    for name in ("schedulerdb", "statusdb", "buildapi_db"):
        url = settings.database_url(name)
        assert url.startswith("sqlite:///") and url.endswith(f"{name}.sqlite")


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'port = 9000\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    assert load_settings(path).port == 9000
    monkeypatch.setenv("BUILDAPI_PORT", "9100")
    settings = load_settings(path)
    assert (settings.port, settings.host, settings.log_level) == (9100, "0.0.0.0", "DEBUG")
    assert load_settings(path, port=9200).port == 9200


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDAPI_CONFIG", str(write(tmp_path, 'mount_prefix = "/buildapi/"\n')))
    assert load_settings().mount_prefix == "/buildapi"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 1\n", "unknown key 'colour'"),
        ('port = "eighty"\n', "bad value for 'port' (from config file"),
        ("port = 70000\n", "bad value for 'port'"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('mount_prefix = "buildapi"\n', "must start with one '/'"),
        ('mount_prefix = "//evil.example"\n', "must start with one '/'"),
        ("mount_prefix = '/\\evil.example'\n", "hold no backslash"),
        ('agent_backend = "buildbot4"\n', "Input should be 'buildbot08'"),
        ("[web]\nport = 1\n", "key 'web' is a table"),
        ("port = \n", "is not valid TOML"),
        (
            'policy_act_on_others = ["releng"]\n',
            "bad value for 'policy_act_on_others' (from config file",
        ),
        ('[policy_act_on_scheduled]\n"*" = "releng"\n', "'policy_act_on_scheduled.*' (from config"),
        ("[policy_act_on_others]\ntry = []\n", "needs a '*' entry for the branches not listed"),
        ('[policy_act_on_others]\n"*" = [""]\n', "names must not be empty"),
        ('[policy_priority_ceiling]\n"*" = 10\nreleng = 5000\n', "5000 is outside -1000 to 1000"),
        ("[policy_priority_ceiling]\nreleng = 50\n", "needs a '*' entry for users of no"),
        ('jobs_show_who = "nobody"\n', "Input should be 'everyone' or 'authenticated'"),
        (
            'schedulerdb_url = "sqlite:///a"\nstatusdb_url = "sqlite:///a"\n',
            "must name different databases",
        ),
        (
            "agent_heartbeat_seconds = 30\nagent_stale_seconds = 30\n",
            "bad configuration: agent_stale_seconds must be longer than agent_heartbeat_seconds",
        ),
    ],
)
def test_bad_file_gives_one_line_naming_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    assert expected in caught.value.msg
    assert "\n" not in caught.value.msg


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDAPI_LAYOUT_REFRESH_SECONDS", "soon")
    with pytest.raises(ConfigError, match="BUILDAPI_LAYOUT_REFRESH_SECONDS"):
        load_settings()


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*missing\.toml"):
        load_settings(tmp_path / "missing.toml")


def test_cli_reports_bad_config_in_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "colour = 1\n")
    assert main(["db", "init", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"buildapi: config file {path}: unknown key 'colour'"]


def test_example_config_sets_every_key_and_loads(tmp_path: Path) -> None:
    from importlib import resources

    example = Path(str(resources.files("buildapi") / "examples" / "buildapi.toml"))
    text = example.read_text(encoding="utf-8")
    for key in Settings.model_fields:
        assert f"\n{key} = " in text or f"\n[{key}]" in text, f"{key} missing from example"
    load_settings(example)
