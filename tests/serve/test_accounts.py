"""Accounts over a live server: tokens and passwords hashed at rest, auth-token/, session
cookies, the three ways to give a token, tokens kept out of logs, throttling shared by the
worker processes (429 with Retry-After, counted in /metrics)."""

from __future__ import annotations

import hashlib
import re

import requests

from lanner.serve import accounts
from lanner.store import open_store
from tests.serve.archive_facts import rows
from tests.serve.conftest import PASSWORD, Instance

CONE = {"ra": 10.0, "dec": 10.0, "radius": 5.0, "requestType": "count"}


def test_secrets_hashed_at_rest(lsst: Instance) -> None:
    reply = requests.post(
        f"{lsst.api}/auth-token/", data={"username": "bob", "password": PASSWORD}, timeout=10
    )
    token = reply.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    stored = rows(lsst.db_url, "SELECT token_hash FROM api_tokens")
    assert (hashlib.sha256(token.encode()).hexdigest(),) in stored
    dump = repr(rows(lsst.db_url, "SELECT * FROM api_tokens"))
    dump += repr(rows(lsst.db_url, "SELECT * FROM api_accounts"))
    dump += repr(rows(lsst.db_url, "SELECT * FROM users"))
    assert token not in dump and PASSWORD not in dump
    assert lsst.people["bob"].token not in dump  # the key made by `lanner user add` too
    (password_hash,) = rows(
        lsst.db_url, "SELECT password_hash FROM api_accounts WHERE user_id = ?",
        (lsst.people["bob"].user_id,),
    )[0]  # fmt: skip
    assert password_hash.startswith("$argon2id$")
    # the token works, each new one is different, a wrong password gets DRF's answer
    header = {"Authorization": f"Token {token}"}
    assert requests.post(f"{lsst.api}/cone/", data=CONE, headers=header, timeout=10).ok
    again = requests.post(
        f"{lsst.api}/auth-token/", json={"username": "bob", "password": PASSWORD}, timeout=10
    ).json()["token"]
    assert again != token
    wrong = requests.post(
        f"{lsst.api}/auth-token/", data={"username": "bob", "password": "nope"}, timeout=10
    )
    assert wrong.status_code == 400
    assert wrong.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_three_ways_to_authenticate(lsst: Instance) -> None:
    token = lsst.people["power"].token
    url = f"{lsst.api}/cone/"
    assert requests.get(url, params={**CONE, "token": token, "format": "json"}, timeout=10).ok
    assert requests.post(url, json=CONE, headers={"Authorization": f"Token {token}"}, timeout=10).ok
    store = open_store(lsst.db_url, create=False)
    try:
        session = accounts.start_session(store, "power", PASSWORD, hours=1.0)
        assert accounts.start_session(store, "power", "wrong password", hours=1.0) is None
    finally:
        store.close()
    assert session is not None
    assert requests.get(url, params=CONE, cookies={"lanner_session": session}, timeout=10).ok
    none = requests.get(url, params=CONE, timeout=10)
    assert none.status_code == 401
    assert none.json() == {"detail": "Authentication credentials were not provided."}
    assert none.headers["WWW-Authenticate"] == "Token"
    bad = requests.get(url, params={**CONE, "token": "a'b"}, timeout=10)
    assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid token format."})
    wrong = requests.get(url, params=CONE, headers={"Authorization": "Token 0"}, timeout=10)
    assert (wrong.status_code, wrong.json()) == (401, {"detail": "Invalid token."})
    expired = requests.get(url, params=CONE, cookies={"lanner_session": "x" * 43}, timeout=10)
    assert expired.status_code == 401


def test_tokens_never_in_the_log(lsst: Instance) -> None:
    token = lsst.people["power"].token
    requests.get(f"{lsst.api}/cone/", params={**CONE, "token": token}, timeout=10)
    requests.get(f"{lsst.api}/cone/", params={**CONE, "token": "wrong_token_x"}, timeout=10)
    log = lsst.server.log_text()
    assert "/api/cone/?" in log and "token=***" in log
    assert token not in log and "wrong_token_x" not in log


def test_throttle_shared_by_workers(lsst: Instance) -> None:
    """The anon tier allows 10 calls an hour. The server runs 2 worker processes, so the
    11th refusal shows the count is shared (each process alone would still allow it)."""
    token = lsst.people["anon2"].token
    header = {"Authorization": f"Token {token}"}
    before = _throttled(lsst)
    codes = []
    for _ in range(12):
        codes.append(requests.post(f"{lsst.api}/cone/", data=CONE, headers=header, timeout=10))
    statuses = [r.status_code for r in codes]
    ok = statuses.count(200)
    assert ok <= 10 and statuses[-1] == 429 and statuses[-2] == 429
    refused = codes[-1]
    assert refused.json() == {
        "message": "Request limit exceeded. Either wait an hour, or see API documentation "
        "to increase your limits."
    }
    assert 3000 < int(refused.headers["Retry-After"]) <= 3600
    assert _throttled(lsst) - before == statuses.count(429)


def _throttled(instance: Instance) -> float:
    text = requests.get(f"{instance.server.url}/metrics", timeout=10).text
    found = re.search(r'^lanner_api_throttled_total\{tier="anon"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0
