"""The dump files: shapes as the real samples, atomic writes, and the served headers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest

from buildapi.cli import main
from buildapi.config import Settings
from buildapi.db.queries.seconds import round_seconds
from buildapi.db.queries.status_dump import finished_builds
from buildapi.dumps.run import FOUR_HOURS, PENDING, RUNNING, write_live_dumps
from buildapi.dumps.writer import write_atomically
from buildapi.farm.farm import Farm
from buildapi.vocabulary import is_good

# The keys of one build in the real builds-4hr samples Treeherder parsed.
BUILD_KEYS = {
    "builder_id", "buildnumber", "endtime", "id", "master_id", "properties", "reason",
    "request_ids", "requesttime", "result", "slave_id", "starttime",
}  # fmt: skip
PROPERTIES = {"buildername", "branch", "revision", "slavename", "request_ids", "log_url"}


@pytest.fixture(scope="module")
def written(live_settings: Settings, busy_farm: Farm) -> Path:
    write_live_dumps(
        busy_farm.databases, busy_farm.layout, live_settings.dumps_path, busy_farm.clock.now()
    )
    return live_settings.dumps_path


def test_pending_and_running_files_equal_the_views(
    written: Path, farm_client: httpx.Client
) -> None:
    for name, path in ((PENDING, "/pending"), (RUNNING, "/running")):
        served = farm_client.get(f"/builddata/buildjson/{name}")
        assert served.status_code == 200
        assert served.headers["content-type"] == "application/json"
        assert served.headers["access-control-allow-origin"] == "*"
        assert served.json() == farm_client.get(f"{path}?format=json").json()
        assert json.loads((written / name).read_bytes()) == served.json()


def test_four_hour_dump_shape(written: Path, busy_farm: Farm) -> None:
    document = json.loads(gzip.decompress((written / FOUR_HOURS).read_bytes()))
    assert set(document) == {"builds", "builders", "slaves", "starttime", "endtime"}
    now = int(busy_farm.clock.now())
    assert document["endtime"] == now and document["starttime"] == now - 4 * 3600
    assert document["builds"], "a busy farm finished builds in four hours"
    idle = [build for build in document["builds"] if not build["request_ids"]]
    assert idle, "idle jobs (builds no request asked for) are in the dump too"
    for build in document["builds"]:
        assert set(build) == BUILD_KEYS
        assert document["starttime"] <= build["endtime"] <= document["endtime"]
        assert build["request_ids"] == build["properties"]["request_ids"]
        if build in idle:
            assert build["requesttime"] is None and build["reason"] == "idle slave"
            assert set(build["properties"]) >= PROPERTIES - {"revision"}
        else:
            assert set(build["properties"]) >= PROPERTIES
            times = build["properties"]["request_times"].values()
            assert build["requesttime"] == round_seconds(min(times))
        builder = document["builders"][str(build["builder_id"])]
        assert builder["name"] == build["properties"]["buildername"]
        assert document["slaves"][str(build["slave_id"])] == build["properties"]["slavename"]
    starts = [build["starttime"] for build in document["builds"]]
    assert starts == sorted(starts)


def test_four_hour_dump_gives_mozci_and_treeherder_what_they_read(
    written: Path, busy_farm: Farm
) -> None:
    """mozci triggers a build's tests with its `packageUrl` and `testPackagesUrl` (or
    `testsUrl`); Treeherder shows `who` as a try push's author; tests name their build."""
    document = json.loads(gzip.decompress((written / FOUR_HOURS).read_bytes()))
    seen = set()
    for build in document["builds"]:
        properties = build["properties"]
        builder = busy_farm.layout.builders.get(properties["buildername"])
        kind = builder.kind if builder else "idle"
        if kind == "build" and is_good(build["result"]):
            assert {"packageUrl", "testsUrl", "testPackagesUrl"} <= set(properties)
            seen.add("package")
        if kind == "build" and properties["branch"] == "try":
            assert "@" in properties["who"]
            seen.add("who")
        if kind in ("test", "talos"):
            assert properties["build_url"].startswith("https://")
            seen.add("test")
    assert seen == {"package", "who", "test"}


def test_four_hour_dump_is_served_with_caching_headers(
    written: Path, farm_client: httpx.Client
) -> None:
    response = farm_client.get(f"/builddata/buildjson/{FOUR_HOURS}")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == (written / FOUR_HOURS).stat().st_size
    assert response.headers["last-modified"].endswith(" GMT")
    assert "builds" in response.json()  # the client undid the gzip encoding
    again = farm_client.get(
        f"/builddata/buildjson/{FOUR_HOURS}",
        headers={"If-Modified-Since": response.headers["last-modified"]},
    )
    assert again.status_code == 304
    older = farm_client.get(
        f"/builddata/buildjson/{FOUR_HOURS}",
        headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
    )
    assert older.status_code == 200


@pytest.mark.parametrize(
    "name", ["builds-weekly.js", "builds-2026-99.js.gz", "..%2Fschedulerdb.sqlite", "nothing"]
)
def test_unknown_dump_is_404(written: Path, farm_client: httpx.Client, name: str) -> None:
    response = farm_client.get(f"/builddata/buildjson/{name}?format=json")
    assert response.status_code == 404


def test_index_lists_the_files(written: Path, farm_client: httpx.Client) -> None:
    files = farm_client.get("/builddata/buildjson?format=json").json()["files"]
    assert {PENDING, RUNNING, FOUR_HOURS} <= set(files)


def test_pages_of_a_window_cover_it_exactly(busy_farm: Farm) -> None:
    """Reading in small pages gives the same builds, in order, as one big page."""
    import datetime

    end = datetime.datetime.fromtimestamp(busy_farm.clock.now(), datetime.UTC).replace(tzinfo=None)
    start = end - datetime.timedelta(hours=3)
    whole = [b.id for b in finished_builds(busy_farm.databases.statusdb, start, end, page=100000)]
    paged = [b.id for b in finished_builds(busy_farm.databases.statusdb, start, end, page=7)]
    assert paged == whole and len(whole) > 7


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "builds-pending.js"
    write_atomically(target, [b'{"pending": {}}'], compress=False)

    def broken():  # type: ignore[no-untyped-def]
        yield b'{"pending": {"half'
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_atomically(target, broken(), compress=False)
    assert target.read_bytes() == b'{"pending": {}}'
    assert [path.name for path in tmp_path.iterdir()] == ["builds-pending.js"]


def test_cli_writes_day_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["db", "init", "--data-dir", str(tmp_path)]) == 0
    assert (
        main(["dumps", "--data-dir", str(tmp_path), "--out", str(out), "--day", "2026-03-08"]) == 0
    )
    document = json.loads(gzip.decompress((out / "builds-2026-03-08.js.gz").read_bytes()))
    assert document["builds"] == [] and document["endtime"] - document["starttime"] == 86399
    assert (out / PENDING).exists()


def test_cli_rejects_a_bad_day(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dumps", "--day", "2026-13-01"])
    assert exited.value.code == 2
    assert "not a YYYY-MM-DD date" in capsys.readouterr().err
