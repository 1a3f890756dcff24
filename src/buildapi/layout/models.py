"""Typed shapes of the three layout documents; unknown keys are kept, as real files carry more."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, RootModel

from buildapi.vocabulary import POOLS

# "idle": maintenance the farm runs on slaves with nothing else to do (farm/idle.py); no
# scheduler requests it.
JobKind = Literal["build", "test", "talos", "nightly", "l10n", "pgo", "idle"]


class Branch(BaseModel):
    """One entry of the branches document, keyed by short name (`mozilla-inbound`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    repo: str
    repo_type: str = "hg"
    graph_branches: list[str] = Field(default_factory=list)

    @property
    def repo_path(self) -> str:
        """The repository path (`integration/mozilla-inbound`), which sourcestamps carry."""
        return urlparse(self.repo).path.strip("/")


class Master(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    hostname: str
    http_port: int = Field(ge=1, le=65535)
    pb_port: int = Field(ge=1, le=65535)
    db_name: str
    role: str
    enabled: bool = True

    @property
    def pool(self) -> str | None:
        return POOLS.get(self.role)

    @property
    def http_url(self) -> str:
        return f"http://{self.hostname}:{self.http_port}"


class BuilderProperties(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    branch: str
    platform: str
    product: str = "firefox"


class Builder(BaseModel):
    """An allthethings-style builder entry plus what the farm needs to schedule it:
    `kind`, and for tests and talos the build builder whose success triggers them."""

    model_config = ConfigDict(extra="allow", frozen=True)

    properties: BuilderProperties
    slavepool: str
    shortname: str
    kind: JobKind
    triggered_by: str | None = None

    @property
    def role(self) -> str:
        """The role of the masters that run this builder (a key of POOLS)."""
        if self.kind in ("test", "talos"):
            return "tests"
        return "try" if self.properties.branch == "try" else "build"

    @property
    def pool(self) -> str | None:
        """The slave pool its requests count against in wait-time reports."""
        return POOLS.get(self.role)


class BranchesDocument(RootModel[dict[str, Branch]]):
    pass


class MastersDocument(RootModel[list[Master]]):
    pass


class BuildersDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    builders: dict[str, Builder]


class SlavesDocument(RootModel[dict[str, list[str]]]):
    """Slave names per pool (the builders' `slavepool`)."""
