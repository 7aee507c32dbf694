"""Two users: alice's private watchlists, watchmaps, annotators and filters are invisible to
bob in every route (404, as for an id that does not exist); her public ones are visible to
him but not his to change (403), and their private parts (outputs, topic, matches,
writers) stay hidden. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.serve_v1.conftest import BRIGHT, V1, archive_rows

pytestmark = pytest.mark.postgres
NOT_FOUND = {"detail": "Not found."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}


@dataclass(frozen=True)
class Items:
    watchlist: dict[str, int]
    watchmap: dict[str, int]
    filter: dict[str, int]


@pytest.fixture
def items(v1: V1) -> Iterator[Items]:
    ((ra, dec),) = archive_rows(v1.db_url, "SELECT ra, decl FROM objects LIMIT 1")
    made: dict[str, dict[str, int]] = {"watchlist": {}, "watchmap": {}, "filter": {}}
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        for kind, public in (("private", "false"), ("public", "true")):
            tag = uuid.uuid4().hex[:6]
            reply = http.post(
                "/api/v1/watchlists/",
                data={"name": f"wl {kind} {tag}", "public": public},
                files={"file": ("c.csv", f"{ra}, {dec}, here\n".encode())},
            )
            made["watchlist"][kind] = reply.json()["wl_id"]
            reply = http.post(
                "/api/v1/watchmaps/",
                data={"name": f"wm {kind} {tag}", "public": public},
                files={"file": ("m.txt", b"10/0-100")},
            )
            made["watchmap"][kind] = reply.json()["ar_id"]
            reply = http.post(
                "/api/v1/filters/",
                json={"name": f"f {kind} {tag}", "sql": BRIGHT, "public": public == "true",
                      "output": "webhook",
                      "output_options": {"webhook_url": "http://127.0.0.1:9/hooks/s3cret"}},
            )  # fmt: skip
            assert reply.status_code == 201, reply.text
            made["filter"][kind] = reply.json()["filter_id"]
    yield Items(**made)


def test_lists_show_only_own_and_public(v1: V1, items: Items) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("bob")) as http:
        for route, key, ids in (
            ("watchlists", "wl_id", items.watchlist),
            ("watchmaps", "ar_id", items.watchmap),
            ("filters", "filter_id", items.filter),
        ):
            seen = {row[key] for row in http.get(f"/api/v1/{route}/").json()}
            assert ids["private"] not in seen and ids["public"] in seen, route
        topics = {a["topic"] for a in http.get("/api/v1/annotators/").json()}
        assert "alice_private" not in topics and "alice_public" in topics
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        seen = {row["filter_id"] for row in http.get("/api/v1/filters/").json()}
        assert {items.filter["private"], items.filter["public"], v1.bright_id} <= seen


def routes(kind: str, ident: int) -> list[tuple[str, str, dict[str, object] | None]]:
    """Every route of one item: (method, path, JSON body)."""
    if kind == "filter":
        base = f"/api/v1/filters/{ident}/"
        return [
            ("GET", base, None), ("PATCH", base, {"description": "mine now"}),
            ("POST", base + "run/", {}), ("POST", base + "activate/", None),
            ("POST", base + "deactivate/", None), ("POST", base + "backtest/", {"since": "0"}),
            ("GET", base + "matches/", None), ("DELETE", base, None),
        ]  # fmt: skip
    base = f"/api/v1/{kind}s/{ident}/"
    return [
        ("GET", base, None), ("GET", base + "hits/", None), ("POST", base + "activate/", None),
        ("POST", base + "deactivate/", None), ("DELETE", base, None),
    ]  # fmt: skip


#: Routes a public item of another user answers (reading it); every other is 403.
READABLE = {"GET /", "GET /hits/", "POST /run/"}


def test_every_route_hides_private_and_guards_public(v1: V1, items: Items) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("bob"), timeout=60) as http:
        for kind in ("watchlist", "watchmap", "filter"):
            ids = getattr(items, kind)
            for method, path, body in routes(kind, ids["private"]):
                reply = http.request(method, path, json=body)
                assert (reply.status_code, reply.json()) == (404, NOT_FOUND), (method, path)
            for method, path, body in routes(kind, ids["public"]):
                reply = http.request(method, path, json=body)
                tail = path.split(f"/{ids['public']}")[1]
                if f"{method} {tail}" in READABLE:
                    assert reply.status_code == 200, (method, path, reply.text)
                else:
                    assert (reply.status_code, reply.json()) == (403, FORBIDDEN), (method, path)
        for topic, status in (("alice_private", 404), ("alice_public", 200)):
            assert http.get(f"/api/v1/annotators/{topic}/").status_code == status
        # An id that does not exist answers exactly as a private one.
        assert http.get("/api/v1/filters/999999/").json() == NOT_FOUND
    # alice still has everything, unchanged.
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        for kind in ("watchlist", "watchmap", "filter"):
            for ident in getattr(items, kind).values():
                reply = http.get(f"/api/v1/{kind}s/{ident}/")
                assert reply.status_code == 200 and reply.json()["description"] == ""


def test_public_items_hide_their_private_parts(v1: V1, items: Items) -> None:
    with httpx.Client(base_url=v1.url, headers=v1.auth("bob")) as http:
        theirs = http.get(f"/api/v1/filters/{items.filter['public']}/").json()
        annotator = http.get("/api/v1/annotators/alice_public/").json()
    assert theirs["sql"] == BRIGHT
    assert not {"output", "output_options", "topic", "matches"} & set(theirs)
    assert annotator["may_write"] is False and "writers" not in annotator
    with httpx.Client(base_url=v1.url, headers=v1.auth("alice")) as http:
        mine = http.get(f"/api/v1/filters/{items.filter['public']}/").json()
    assert mine["output"] == "webhook"
    assert "s3cret" not in str(mine) and "***" in str(mine["output_options"])


def test_private_areas_cannot_be_queried_by_others(v1: V1, items: Items) -> None:
    private = items.watchlist["private"]
    body = {"selected": "objects.diaObjectId", "tables": f"objects, watchlist:{private}",
            "conditions": ""}  # fmt: skip
    with httpx.Client(base_url=v1.url) as http:
        mine = http.post("/api/query/", data=body, headers=v1.auth("alice"))
        assert mine.status_code == 200 and len(mine.json()) >= 1
        theirs = http.post("/api/query/", data=body, headers=v1.auth("bob"))
        assert theirs.status_code == 400
        assert str(private) in theirs.text and "diaObjectId" not in theirs.text
        refused = http.post(
            "/api/v1/filters/",
            json={"name": "spy", "selected": body["selected"], "tables": body["tables"]},
            headers=v1.auth("bob"),
        )
        assert refused.status_code == 400
        public = items.watchlist["public"]
        shared = http.post(
            "/api/query/", data={**body, "tables": f"objects, watchlist:{public}"},
            headers=v1.auth("bob"),
        )  # fmt: skip
        assert shared.status_code == 200 and len(shared.json()) >= 1
