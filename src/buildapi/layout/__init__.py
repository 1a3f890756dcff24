"""The farm layout: branches, masters and builders, loaded from files or URLs."""

from buildapi.layout.loader import FarmLayout, LayoutSource, load_layout
from buildapi.layout.models import Branch, Builder, Master
from buildapi.layout.periodic import PeriodicKind, periodic_builders

__all__ = [
    "Branch",
    "Builder",
    "FarmLayout",
    "LayoutSource",
    "Master",
    "PeriodicKind",
    "load_layout",
    "periodic_builders",
]
