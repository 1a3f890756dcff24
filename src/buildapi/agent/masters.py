"""The masters' web interface and the clobberer, as the agent calls them over HTTP.

Every call has the configured timeout (legacy calls had none and could hang the agent). Any
failure to get the expected answer raises MasterError with one readable line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from types import TracebackType
from urllib.parse import quote, unquote

import httpx

from buildapi.layout import Master

# The first link to a slave's page on a build page names the slave that runs the build.
SLAVE_LINK = re.compile(r"""href\s*=\s*["'][^"']*/buildslaves/([^"'/?#]+)["']""")


class MasterError(Exception):
    """A master or the clobberer could not be reached or did not do what was asked."""


class MastersClient:
    """HTTP calls to masters and the clobberer over one connection pool."""

    def __init__(
        self,
        timeout: float,
        clobberer_url: str,
        clobberer_token: str = "",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.clobberer_url = clobberer_url
        self.clobberer_token = clobberer_token
        self.http = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MastersClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def slave_of_build(self, master: Master, buildername: str, number: int) -> str | None:
        """The slave named on the build's page, or None when the page names none."""
        response = self._call("GET", master.name, build_url(master, buildername, number))
        _expect(response, master.name, 200)
        found = SLAVE_LINK.search(response.text)
        return unquote(found.group(1)) if found else None

    def clobber(self, slave: str, buildername: str) -> None:
        """Ask the clobberer to wipe `buildername`'s directory on `slave` before its next build."""
        headers = {"Content-Type": "application/json"}
        if self.clobberer_token:
            headers["Authorization"] = f"Bearer {self.clobberer_token}"
        body = json.dumps([{"slave": slave, "buildername": buildername}])
        response = self._call(
            "POST", "the clobberer", self.clobberer_url, content=body, headers=headers
        )
        _expect(response, "the clobberer", 200, 201, 202, 204)

    def stop_build(
        self, master: Master, buildername: str, number: int, who: str, comments: str
    ) -> None:
        """POST the build's stop form. A Buildbot 0.8 master answers 302 to the builder's page
        (not followed: it is heavy) whether or not the build was still running, so the answer
        only says the master took the form; what happened is in the scheduler database."""
        url = f"{build_url(master, buildername, number)}/stop"
        form = {"comments": comments, "username": who}
        response = self._call("POST", master.name, url, data=form)
        _expect(response, master.name, 302)

    def send_change(
        self,
        master: Master,
        *,
        branch: str,
        revision: str,
        revlink: str,
        repository: str,
        who: str,
        comments: str,
        files: Sequence[str] = (),
    ) -> None:
        """Send a change to the master's base change hook, as `buildbot sendchange` did. The
        author goes as both `who` (what 0.8.2 reads) and `author` (0.8.3 and later), and
        `repository` and `project` are always strings: 0.8.2 stores them in NOT NULL columns
        and later 0.8 releases assert that the project is a string."""
        form = {
            "branch": branch,
            "revision": revision,
            "revlink": revlink,
            "who": who,
            "author": who,
            "comments": comments,
            "repository": repository,
            "project": "",
        }
        if files:
            form["files"] = json.dumps(list(files))
        url = f"{master.http_url}/change_hook/base"
        response = self._call("POST", master.name, url, data=form)
        _expect(response, master.name, 200, 201, 202)

    def _call(self, method: str, target: str, url: str, **kwargs: object) -> httpx.Response:
        try:
            return self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException as exc:
            raise MasterError(f"{target} did not answer in time ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise MasterError(f"cannot reach {target}: {exc}") from exc


def build_url(master: Master, buildername: str, number: int) -> str:
    return f"{master.http_url}/builders/{quote(buildername, safe='')}/builds/{number}"


def _expect(response: httpx.Response, target: str, *codes: int) -> None:
    if response.status_code not in codes:
        detail = response.text.strip().replace("\n", " ")[:200]
        raise MasterError(f"{target} answered {response.status_code}: {detail}")
