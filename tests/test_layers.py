"""Imports go one way (web -> selfserve/layout -> db), and frameworks stay in their layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "buildapi"

# module prefix -> packages it must not import (ours or third-party)
FORBIDDEN = {
    "buildapi": ("buildapi.web",),
    "buildapi.farm": ("buildapi.web", "buildapi.selfserve", "buildapi.agent"),
    "buildapi.db": ("buildapi.layout", "buildapi.selfserve", "buildapi.agent", "buildapi.farm"),
    "buildapi.layout": ("buildapi.db", "buildapi.selfserve", "buildapi.agent"),
}
# third-party package -> the only modules allowed to import it
CONFINED = {
    "fastapi": ("buildapi.web",),
    "starlette": ("buildapi.web", "buildapi.farm.web"),
    "kombu": ("buildapi.selfserve.broker", "buildapi.agent.consumer"),
    "sqlalchemy": ("buildapi.db",),
    "alembic": ("buildapi.db",),
}
# Exception types and connection types (for type hints) are not building SQL.
ALLOWED_EVERYWHERE = ("sqlalchemy.exc", "sqlalchemy.Connection", "sqlalchemy.Engine")


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda value: str(value))
def test_import_direction(module: str, path: Path) -> None:
    if module == "buildapi.cli":  # the one place where everything is wired together
        return
    for imported in imports_of(path):
        for owner, forbidden in FORBIDDEN.items():
            if within(module, owner) and not within(module, "buildapi.web"):
                bad = [prefix for prefix in forbidden if within(imported, prefix)]
                assert not bad, f"{module} imports {imported}"
        if any(within(imported, allowed) for allowed in ALLOWED_EVERYWHERE):
            continue
        for package, owners in CONFINED.items():
            if within(imported, package):
                assert any(within(module, owner) for owner in owners), (
                    f"{module} imports {imported}; only {owners} may"
                )


def test_the_walk_sees_the_packages() -> None:
    names = {name for name, _path in modules()}
    assert {"buildapi.web.app", "buildapi.db.engines", "buildapi.config"} <= names
