"""The farm's words live in buildapi.vocabulary alone: no other module or template spells out a
result code, the result names, a pool name or a rebuild reason, so none can drift."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from buildapi import vocabulary
from buildapi.vocabulary import POOL_NAMES, Result

PACKAGE = Path(vocabulary.__file__).parent
REASONS = (
    vocabulary.REBUILT,
    vocabulary.REQUESTED_BY,
    vocabulary.REBUILD_BUTTON,
    vocabulary.FORCE_BUILD_BUTTON,
)


def test_results_have_buildbots_codes_and_legacy_names() -> None:
    assert [(result.value, result.legacy_name) for result in Result] == [
        (0, "success"),
        (1, "warnings"),
        (2, "failure"),
        (3, "skipped"),
        (4, "exception"),
        (5, "retry"),
        (6, "cancelled"),
    ]
    assert Result.RETRY.label == "Retry"
    assert Result.of(None) is None and Result.of(7) is None and Result.of(-1) is None
    assert Result.of(5) is Result.RETRY


def test_only_success_and_warnings_are_good() -> None:
    assert [result for result in Result if vocabulary.is_good(result)] == [
        Result.SUCCESS,
        Result.WARNINGS,
    ]
    assert not vocabulary.is_good(None)


def spelled_out(tree: ast.Module) -> list[str]:
    """What in a module's code repeats the vocabulary: result-code constants of its own, tuples
    of result names, pool names and reason strings."""
    found = []
    names = {result.name for result in Result}
    legacy = {result.legacy_name for result in Result}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            targets = [t for target in statement.targets for t in ast.walk(target)]
            found += [t.id for t in targets if isinstance(t, ast.Name) and t.id in names]
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List):
            words = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            if len(words & legacy) >= 4:
                found.append(f"result names {sorted(words & legacy)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            found += [text for name in POOL_NAMES if text == name]
            found += [text for reason in REASONS if reason.strip() in text]
    return found


def test_the_detector_sees_each_kind_of_repetition() -> None:
    planted = """
SUCCESS, RETRY = 0, 5
NAMES = ("success", "warnings", "failure", "skipped")
POOL = "testpool"
EXCLUDED = "%Rebuilt by %"
"""
    assert spelled_out(ast.parse(planted)) == [
        "SUCCESS",
        "RETRY",
        "result names ['failure', 'skipped', 'success', 'warnings']",
        "testpool",
        "%Rebuilt by %",
    ]


@pytest.mark.parametrize(
    "path",
    [path for path in sorted(PACKAGE.rglob("*.py")) if path.name != "vocabulary.py"],
    ids=lambda path: str(path.relative_to(PACKAGE)),
)
def test_no_module_spells_out_the_vocabulary(path: Path) -> None:
    assert spelled_out(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_no_template_lists_the_result_labels() -> None:
    labels = [result.label for result in Result]
    listing = re.compile(r"\[\s*" + r"\s*,\s*".join(f'"{label}"' for label in labels[:3]))
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted((PACKAGE / "web" / "templates").rglob("*.html"))
        if listing.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
