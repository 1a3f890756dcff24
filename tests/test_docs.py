"""The docs keep up with the code: every key, command and route is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from buildapi.cli import build_parser
from buildapi.config import Settings, load_settings
from buildapi.db.schema import buildapi as buildapi_schema
from buildapi.db.schema import scheduler as scheduler_schema
from buildapi.db.schema import status as status_schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_config_key_is_documented() -> None:
    text = read("configuration.md")
    for key in Settings.model_fields:
        assert f"| `{key}` |" in text, key


def test_every_command_is_documented() -> None:
    text = read("cli.md")
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in commands:
        assert f"`buildapi {command}" in text, command
    assert "`buildapi farm history" in text


def test_every_route_is_documented(client: httpx.Client) -> None:
    text = read("api.md")
    for path in client.get("/openapi.json").json()["paths"]:
        assert f"| `{path}` |" in text, path
    assert "| `/openapi.json` |" in text


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    assert blocks[0].strip() == "./dev demo"
    assert blocks[1].strip() == "./dev test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev test" in ci


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as
    hyphens, `-1`, `-2` ... after repeats. Code blocks hold no headings."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        repeat, candidate = 0, slug
        while candidate in anchors:
            repeat += 1
            candidate = f"{slug}-{repeat}"
        anchors.add(candidate)
    return anchors


def test_docs_links_resolve() -> None:
    """Links between the docs name pages that exist and, after `#`, headings they have."""
    link = re.compile(r"\]\(([^)#\s]*\.md)?(?:#([^)\s]+))?\)")
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target, anchor in link.findall(page.read_text(encoding="utf-8")):
            linked = page.parent / target if target else page
            assert linked.exists(), f"{page.name} links to missing {target}"
            if anchor:
                assert anchor in heading_anchors(linked), f"{page.name} links to {target}#{anchor}"


def test_every_doc_is_listed_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert f"](docs/{page.name})" in text, page.name


def test_example_layout_is_up_to_date(tmp_path: Path) -> None:
    """The shipped examples are what tools/make_example_layout.py writes."""
    examples = ROOT / "src" / "buildapi" / "examples"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_example_layout.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = sorted(path.name for path in tmp_path.glob("*.json"))
    assert generated == sorted(path.name for path in examples.glob("*.json"))
    for name in generated:
        assert (tmp_path / name).read_bytes() == (examples / name).read_bytes(), name


def test_the_deployment_guide_names_real_keys_and_its_configuration_loads(tmp_path: Path) -> None:
    """Its TOML example loads as it is; every BUILDAPI_* variable it sets, and every word in
    backquotes that looks like a key (not a table, database user or nginx word), is a key."""
    text = read("deploy.md")
    (example,) = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    path = tmp_path / "buildapi.toml"
    path.write_text(example, encoding="utf-8")
    settings = load_settings(path)
    assert settings.web_workers > 1 and not settings.broker_url.startswith("memory://")
    variables = set(re.findall(r"\bBUILDAPI_([A-Z_]+)=", text)) - {"CONFIG"}
    assert variables and {name.lower() for name in variables} <= set(Settings.model_fields)
    families = {key.split("_")[0] + "_" for key in Settings.model_fields}
    tables = {
        *buildapi_schema.metadata.tables,
        *scheduler_schema.metadata.tables,
        *status_schema.metadata.tables,
    }
    users = set(re.findall(r"CREATE (?:USER '|ROLE )(\w+)", text))
    (nginx,) = re.findall(r"```nginx\n(.*?)```", text, flags=re.S)
    others = tables | users | set(re.findall(r"\w+", nginx))
    for word in set(re.findall(r"`([a-z]+_[a-z_]+)`", text)) - others:
        if word.startswith(tuple(families)):
            assert word in Settings.model_fields, f"deploy.md names {word!r}, which is no key"
