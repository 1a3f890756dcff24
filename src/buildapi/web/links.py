"""What pages link to outside BuildAPI, and how times read: a revision's changeset in its
repository, a master's web interface, an epoch as local time with the epoch itself in a
tooltip."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from buildapi.layout import FarmLayout
from buildapi.layout.models import Master

# Where each kind of repository shows one changeset, after the repository URL.
CHANGESET_PATHS = {"hg": "/rev/", "git": "/commit/"}


def changeset_url(layout: FarmLayout, branch: str, revision: str) -> str | None:
    """The revision's page in the branch's repository, from the branches config; None for a
    branch the config doesn't know or a repository type with no known changeset page."""
    known = layout.branches.get(branch)
    if known is None or not revision:
        return None
    path = CHANGESET_PATHS.get(known.repo_type)
    return None if path is None else f"{known.repo.rstrip('/')}{path}{revision}"


def masters_by_name(layout: FarmLayout) -> dict[str, Master]:
    """The configured masters under each name a database gives them: statusdb's `masters.name`
    or schedulerdb's `claimed_by_name` (the `db_name`), so pages can link their web interface."""
    masters = layout.masters
    return {**{m.name: m for m in masters}, **{m.db_name: m for m in masters}}


def time_element(epoch: float | None, zone: ZoneInfo) -> Markup:
    """`<time>` showing the local time, its machine form in `datetime` and the epoch on hover;
    `-` for no time."""
    if not epoch:
        return Markup("-")
    moment = datetime.datetime.fromtimestamp(epoch, zone)
    shown = moment.strftime("%Y-%m-%d %H:%M:%S")
    return Markup('<time datetime="{}" title="epoch {}">{}</time>').format(
        moment.isoformat(), escape(int(epoch)), shown
    )
