"""/search: a revision prefix or an author's start, across every branch; too long is a 400."""

from __future__ import annotations

import httpx

from buildapi.farm.farm import Farm
from tests.unit.farm.invariants import rows


def test_revision_prefix_finds_its_push_on_its_branch(
    farm_client: httpx.Client, busy_farm: Farm
) -> None:
    [(branch, revision, author)] = rows(
        busy_farm.databases.schedulerdb,
        "SELECT branch, revision, author FROM changes ORDER BY changeid DESC LIMIT 1",
    )
    found = farm_client.get("/search", params={"q": revision[:10].upper(), "format": "json"})
    assert found.status_code == 200, found.text
    data = found.json()
    assert data["kind"] == "revision"
    assert {push["revision"][:10] for push in data["pushes"]} == {revision[:10]}
    push = next(push for push in data["pushes"] if push["revision"] == revision)
    short = push["branch"]
    assert short in busy_farm.layout.branches and branch.endswith(short)
    assert push["author"] == author
    page = farm_client.get("/search", params={"q": revision[:10]})
    assert f'href="/self-serve/{short}/rev/{revision}"' in page.text
    assert f'href="/self-serve/{short}/user/{author}"' in page.text.replace("%40", "@")


def test_author_start_finds_every_push_of_those_authors(
    farm_client: httpx.Client, busy_farm: Farm
) -> None:
    [(author,)] = rows(busy_farm.databases.schedulerdb, "SELECT author FROM changes LIMIT 1")
    start = author[:3]
    expected = rows(
        busy_farm.databases.schedulerdb,
        f"SELECT changeid FROM changes WHERE substr(author, 1, 3) = '{start}'",
    )
    data = farm_client.get("/search", params={"q": start, "format": "json"}).json()
    assert data["kind"] == "author"
    assert all(push["author"].startswith(start) for push in data["pushes"])
    assert len(data["pushes"]) == min(len(expected), 100)
    assert data["more"] == (len(expected) > 100)
    times = [push["when"] for push in data["pushes"]]
    assert times == sorted(times, reverse=True)


def test_empty_query_is_the_form(farm_client: httpx.Client) -> None:
    page = farm_client.get("/search")
    assert page.status_code == 200
    assert 'name="q"' in page.text and "Nothing found" not in page.text
    assert farm_client.get("/search?format=json").json()["kind"] is None


def test_nothing_found(farm_client: httpx.Client) -> None:
    page = farm_client.get("/search", params={"q": "nobody-at-all@example.invalid"})
    assert page.status_code == 200 and "Nothing found." in page.text


def test_one_character_is_the_start_of_an_author(farm_client: httpx.Client) -> None:
    data = farm_client.get("/search", params={"q": " s ", "format": "json"}).json()
    assert data["q"] == "s" and data["kind"] == "author"
    assert all(push["author"].startswith("s") for push in data["pushes"])


def test_too_long_a_query_is_refused_with_a_message(farm_client: httpx.Client) -> None:
    answer = farm_client.get("/search", params={"q": "x" * 257, "format": "json"})
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "FAILED",
        "msg": "bad parameter 'q': String should have at most 256 characters",
    }
