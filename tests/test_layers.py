"""Imports go down the declared layers, never sideways nor round in a cycle, and frameworks stay
in their layer. The checks are plain functions of an import graph, so they are tested on
planted mistakes too."""

from __future__ import annotations

import ast
import functools
from collections.abc import Container, Mapping, Sequence
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "buildapi"

Graph = Mapping[str, set[str]]  # module -> the names it imports
Layers = Mapping[str, Sequence[set[str]]]

# package -> its parts in layers, lowest first. A part may import the parts of lower layers only:
# not those of a higher layer, nor those of its own layer unless SIDEWAYS allows it. `*` stands
# for the package's modules that are not named (never for a subpackage). Every part of buildapi
# and every subpackage of a package listed here must have its place.
LAYERS: dict[str, list[set[str]]] = {
    "buildapi": [
        {"__init__", "errors", "logs", "vocabulary"},
        {"clock", "config", "cache", "metrics", "parsing", "probes", "times"},
        {"db", "layout", "secret"},
        {"farm", "reports", "dumps", "selfserve"},
        {"events"},  # names branches as the dumps do
        {"agent", "web", "cluster"},
        {"cli"},  # wires everything together
    ],
    "buildapi.db": [{"schema"}, {"queries", "migrations"}, {"*"}],
    "buildapi.farm": [{"*"}, {"history"}],
    "buildapi.reports": [{"*"}, {"pages"}],  # a report's page presents its computation
    "buildapi.cli": [
        {"databases"},
        {"admin", "agent", "cluster", "farming", "publishing"},
        {"serving"},  # the demo makes a token and a history too
        {"parser"},
        {"__init__"},
        {"__main__"},
    ],
    "buildapi.web": [{"*"}, {"report_inputs"}, {"routes"}, {"app"}, {"worker"}],
    "buildapi.agent": [
        {"__init__", "heartbeat", "ledger", "masters"},
        {"backend"},
        {"stopping", "buildbot08"},
        {"cancelling", "races"},
        {"actions"},
        {"dispatcher"},
        {"consumer"},
        {"launch"},
    ],
}
# (importer, imported): parts of one layer that may import each other's modules
SIDEWAYS: set[tuple[str, str]] = set()
# package or module -> the only modules allowed to import it
CONFINED = {
    "fastapi": ("buildapi.web",),
    "starlette": ("buildapi.web", "buildapi.farm.web"),
    "kombu": (
        "buildapi.selfserve.broker",
        "buildapi.selfserve.confirms",
        "buildapi.agent.consumer",
    ),
    "sqlalchemy": ("buildapi.db",),
    "alembic": ("buildapi.db",),
    # A backend is wired in by launch alone, so no action leans on one kind of farm.
    "buildapi.agent.buildbot08": ("buildapi.agent.launch",),
    "buildapi.agent.masters": ("buildapi.agent.buildbot08", "buildapi.agent.launch"),
}
# Exception types and connection types (for type hints) are not building SQL.
ALLOWED_EVERYWHERE = ("sqlalchemy.exc", "sqlalchemy.Connection", "sqlalchemy.Engine")


# -- reading the source -----------------------------------------------------------------------


def module_paths() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(module: str, path: Path) -> set[str]:
    """Every name `module` imports, relative imports made absolute."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


@functools.cache
def source_graph() -> tuple[dict[str, set[str]], set[str]]:
    """The imports of every module of buildapi, and the names of its packages."""
    paths = module_paths()
    packages = {name for name, path in paths.items() if path.name == "__init__.py"}
    return {name: imports_of(name, path) for name, path in paths.items()}, packages


# -- the checks, on any graph ------------------------------------------------------------------


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def resolve(name: str, modules: Container[str]) -> str | None:
    """The module that an imported name lives in, if it is one of ours."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def own_edges(graph: Graph) -> set[tuple[str, str]]:
    edges = set()
    for module, names in graph.items():
        for name in names:
            target = resolve(name, graph)
            if target is not None and target != module:
                edges.add((module, target))
    return edges


def part_of(package: str, module: str) -> str:
    """The part of `package` that holds `module`: a module or subpackage name, or `__init__`."""
    return "__init__" if module == package else module[len(package) + 1 :].split(".")[0]


def meeting(importer: str, imported: str, packages: set[str]) -> str:
    """The innermost package holding both modules, where they are in different parts."""
    return max(
        (
            package
            for package in packages
            if within(importer, package) and within(imported, package)
        ),
        key=len,
    )


def unit_of(package: str, part: str, layers: Layers, packages: set[str]) -> str | None:
    """The declared name covering `part`: itself, `*` for an unnamed module, else None."""
    named = set().union(*layers[package])
    if part in named:
        return part
    is_module = f"{package}.{part}" not in packages
    return "*" if is_module and "*" in named else None


def level_of(package: str, unit: str, layers: Layers) -> int:
    return next(index for index, layer in enumerate(layers[package]) if unit in layer)


def undeclared(graph: Graph, packages: set[str], layers: Layers, root: str) -> list[str]:
    """Parts of a layered package with no place, and subpackages whose parent has no layers."""
    if root not in layers:
        return [f"{root} declares no layers"]
    missing = set()
    for module in graph:
        for package in (package for package in packages if within(module, package)):
            part = part_of(package, module)
            inner = f"{package}.{part}"
            if package in layers and unit_of(package, part, layers, packages) is None:
                missing.add(f"{inner} has no layer in {package}")
            elif package not in layers and inner in packages:
                missing.add(f"{inner} is a package, but {package} declares no layers")
    return sorted(missing)


def layer_violations(
    graph: Graph, packages: set[str], layers: Layers, sideways: set[tuple[str, str]]
) -> list[str]:
    found = []
    for importer, imported in sorted(own_edges(graph)):
        package = meeting(importer, imported, packages)
        if package not in layers:
            continue
        units = [
            unit_of(package, part_of(package, module), layers, packages)
            for module in (importer, imported)
        ]
        if None in units or units[0] == units[1]:
            continue
        below, above = (level_of(package, unit, layers) for unit in units)  # type: ignore[arg-type]
        pair = (f"{package}.{units[0]}", f"{package}.{units[1]}")
        if below < above:
            found.append(f"{importer} imports {imported}: {pair[0]} is below {pair[1]}")
        elif below == above and pair not in sideways:
            found.append(f"{importer} imports {imported}: {pair[0]} and {pair[1]} share a layer")
    return found


def reach(edges: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for following in edges.get(todo.pop(), set()) - seen:
            seen.add(following)
            todo.append(following)
    return seen


def cycles(graph: Graph, packages: set[str]) -> list[str]:
    """Each set of parts of one package that import each other round in a circle."""
    parts: dict[str, dict[str, set[str]]] = {}
    for importer, imported in own_edges(graph):
        package = meeting(importer, imported, packages)
        edges = parts.setdefault(package, {})
        edges.setdefault(part_of(package, importer), set()).add(part_of(package, imported))
    found = set()
    for package, edges in parts.items():
        reached = {part: reach(edges, part) for part in edges}
        for part, seen in reached.items():
            if part in seen:
                circle = sorted(other for other in seen if part in reached.get(other, set()))
                found.add(f"{package}: {' <-> '.join(circle)}")
    return sorted(found)


def unconfined(graph: Graph, confined: Mapping[str, Sequence[str]]) -> list[str]:
    found = []
    for module, names in sorted(graph.items()):
        for name in sorted(names):
            if any(within(name, allowed) for allowed in ALLOWED_EVERYWHERE):
                continue
            for package, owners in confined.items():
                if within(name, package) and not any(within(module, o) for o in owners):
                    found.append(f"{module} imports {name}; only {', '.join(owners)} may")
    return found


# -- the source tree keeps the rules ---------------------------------------------------------


def test_every_package_has_a_place() -> None:
    graph, packages = source_graph()
    assert undeclared(graph, packages, LAYERS, "buildapi") == []


def test_imports_go_down_the_layers() -> None:
    graph, packages = source_graph()
    assert layer_violations(graph, packages, LAYERS, SIDEWAYS) == []


def test_no_package_imports_itself_round_a_cycle() -> None:
    assert cycles(*source_graph()) == []


def test_frameworks_stay_in_their_layer() -> None:
    graph, _packages = source_graph()
    assert unconfined(graph, CONFINED) == []


def test_the_walk_sees_the_packages() -> None:
    graph, packages = source_graph()
    assert {"buildapi.web.app", "buildapi.db.engines", "buildapi.config"} <= set(graph)
    assert {"buildapi", "buildapi.agent", "buildapi.db.queries", "buildapi.web.routes"} <= packages
    assert "buildapi.selfserve.messages.JobRequest" in graph["buildapi.selfserve.relay"]


# -- the checks catch planted mistakes -------------------------------------------------------

PLANTED_PACKAGES = {"app", "app.low", "app.high"}
PLANTED_LAYERS = {"app": [{"__init__", "low", "side"}, {"high"}]}


def planted(imports: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """A small tree: the package app with the subpackages low and high and the module side."""
    modules = ("app", "app.low", "app.low.rows", "app.high", "app.high.views", "app.side")
    return {**{module: set() for module in modules}, **imports}


def test_a_planted_upward_import_is_caught() -> None:
    graph = planted({"app.low.rows": {"app.high.views.render"}})
    assert layer_violations(graph, PLANTED_PACKAGES, PLANTED_LAYERS, set()) == [
        "app.low.rows imports app.high.views: app.low is below app.high"
    ]
    downward = planted({"app.high.views": {"app.low.rows.fetch", "app.Thing"}})
    assert layer_violations(downward, PLANTED_PACKAGES, PLANTED_LAYERS, set()) == []


def test_a_planted_sideways_import_is_caught_unless_allowed() -> None:
    graph = planted({"app.side": {"app.low.rows"}})
    assert layer_violations(graph, PLANTED_PACKAGES, PLANTED_LAYERS, set()) == [
        "app.side imports app.low.rows: app.side and app.low share a layer"
    ]
    allowed = {("app.side", "app.low")}
    assert layer_violations(graph, PLANTED_PACKAGES, PLANTED_LAYERS, allowed) == []


def test_a_planted_cycle_is_caught() -> None:
    graph = planted({"app.low.rows": {"app.side.helper"}, "app.side": {"app.low"}})
    assert cycles(graph, PLANTED_PACKAGES) == ["app: low <-> side"]
    inner = planted({"app.high.views": {"app.high.forms"}, "app.high.forms": {"app.high.views"}})
    assert cycles(inner, PLANTED_PACKAGES) == ["app.high: forms <-> views"]


def test_a_planted_package_without_a_place_is_caught() -> None:
    graph = planted({"app.extra.tool": set(), "app.high.widgets.knob": set()})
    packages = PLANTED_PACKAGES | {"app.extra", "app.high.widgets"}
    assert undeclared(graph, packages, PLANTED_LAYERS, "app") == [
        "app.extra has no layer in app",
        "app.high.widgets is a package, but app.high declares no layers",
    ]
    assert undeclared(graph, packages, {}, "app") == ["app declares no layers"]


def test_the_wildcard_covers_new_modules_but_not_new_packages() -> None:
    layers = {**PLANTED_LAYERS, "app.high": [{"*"}, {"widgets"}]}
    graph = planted({"app.high.forms": set(), "app.high.widgets.knob": {"app.high.forms"}})
    packages = PLANTED_PACKAGES | {"app.high.widgets"}
    assert undeclared(graph, packages, layers, "app") == []
    assert layer_violations(graph, packages, layers, set()) == []
    upward = planted({"app.high.forms": {"app.high.widgets.knob"}, "app.high.widgets.knob": set()})
    assert layer_violations(upward, packages, layers, set()) == [
        "app.high.forms imports app.high.widgets.knob: app.high.* is below app.high.widgets"
    ]


def test_a_planted_framework_import_is_caught() -> None:
    graph = {"app.low.rows": {"kombu.Connection", "sqlalchemy.exc.IntegrityError"}}
    assert unconfined(graph, {"kombu": ("app.high",), "sqlalchemy": ("app.high",)}) == [
        "app.low.rows imports kombu.Connection; only app.high may"
    ]
