"""The annotation limits: defined once (``lanner.annotations.model``), documented with their
values in docs/annotations.md, and applied alike on every way in — ``lanner annotate`` (one
item and ``--file``), the Kafka consumer's handling of a message and the REST API's
``annotate/`` — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.annotations import add_annotator, model
from lanner.annotations.consume import AnnotationConsumer
from lanner.filter.users import get_user
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.packets import RawPacket
from lanner.serve.accounts import issue_token
from lanner.testing.server import LiveServer
from tests.annotations.conftest import Archive, Cli
from tests.conftest import REPO

#: A path that writes one annotation message (Lasair's fields) and says whether it was
#: written.
Writer = Callable[[dict[str, Any]], bool]


def _documented() -> dict[str, str]:
    text = (REPO / "docs" / "annotations.md").read_text()
    return dict(re.findall(r"^\| `(MAX_[A-Z]+)` \| [^|]+ \| ([^|]+?) \|$", text, re.M))


def test_every_limit_is_documented_with_its_value() -> None:
    constants = {n: getattr(model, n) for n in dir(model) if n.startswith("MAX_")}
    documented = _documented()
    assert set(documented) == set(constants)
    for name, value in constants.items():
        number, unit = documented[name].split(" ", 1)
        assert int(number.replace(",", "")) == value, name
        assert unit == ("bytes" if name == "MAX_CLASSDICT" else "characters"), name


def _blob(size: int) -> dict[str, str]:
    """A classdict of exactly ``size`` bytes as compact JSON, longer as Lasair's clients
    send it (``json.dumps`` puts a space after ``:``)."""
    blob = {"blob": "x" * (size - len('{"blob":""}'))}
    assert len(json.dumps(blob, separators=(",", ":")).encode()) == size
    assert len(json.dumps(blob)) > size
    return blob


CASES = {
    "classification": ("classification", "c" * model.MAX_CLASSIFICATION, "c"),
    "version": ("version", "v" * model.MAX_VERSION, "v"),
    "explanation": ("explanation", "e" * model.MAX_TEXT, "e"),
    "url": ("url", "https://x.org/" + "u" * (model.MAX_TEXT - 14), "u"),
    "classdict": ("classdict", _blob(model.MAX_CLASSDICT), None),
}


def _message(a: Archive, topic: str, n: int, **values: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "diaObjectId": a.object_ids[60 + n],
        "topic": topic,
        "classification": "SN",
        "version": "1",
        "explanation": "",
        "classdict": {"p": 0.5},
        "url": "",
    }
    doc.update(values)
    return doc


def _over(field: str, at_limit: Any, more: str | None) -> Any:
    if field == "classdict":
        return _blob(model.MAX_CLASSDICT + 1)
    return at_limit + more


@pytest.fixture(scope="module")
def server(archive: Archive) -> Iterator[LiveServer]:
    """``lanner serve`` over the session archive."""
    with LiveServer(archive.url, workers=1) as live:
        yield live


@pytest.fixture()
def writers(
    archive: Archive, server: LiveServer, cli: Cli, topic: str, tmp_path: Path
) -> Iterator[dict[str, Writer]]:
    a = archive
    alice = get_user(a.store, a.alice).username
    add_annotator(a.store, topic, a.alice)

    def one_item(doc: dict[str, Any]) -> bool:
        args = ["annotate", topic, str(doc["diaObjectId"]), doc["classification"]]
        for name in ("version", "explanation", "url"):
            args += [f"--{name}", doc[name]]
        args += ["--classdict", json.dumps(doc["classdict"]), "--user", alice]
        return "1 annotation(s) written" in cli(*args, ok=None)

    def file_line(doc: dict[str, Any]) -> bool:
        path = tmp_path / f"{uuid.uuid4().hex}.jsonl"
        path.write_text(json.dumps({**doc, "classdict": json.dumps(doc["classdict"])}) + "\n")
        return "1 annotation(s) written" in cli(
            "annotate", topic, "--file", str(path), "--user", alice, ok=None
        )

    consumer = AnnotationConsumer(a.store, topic, a.alice, FolderDeadLetters(tmp_path / "dl"))

    def kafka_message(doc: dict[str, Any]) -> bool:
        before = consumer.report.written
        data = json.dumps({**doc, "classdict": json.dumps(doc["classdict"])}).encode()
        consumer.handle([RawPacket(data, "fast_annotations[0]@0")])
        return consumer.report.written == before + 1

    token = issue_token(a.store, a.alice)
    with httpx.Client(base_url=server.url, timeout=30) as client:

        def rest_api(doc: dict[str, Any]) -> bool:
            body = {k: v for k, v in doc.items() if k != "diaObjectId"}
            body.update(objectId=doc["diaObjectId"], classdict=json.dumps(doc["classdict"]))
            answer = client.post(
                "/api/annotate/", data=body, headers={"Authorization": f"Token {token}"}
            )
            assert answer.status_code in (200, 400), answer.text
            return answer.status_code == 200

        yield {
            "cli": one_item,
            "cli --file": file_line,
            "kafka": kafka_message,
            "api": rest_api,
        }


@pytest.mark.parametrize("case", sorted(CASES))
def test_limits_alike_on_every_way_in(
    archive: Archive, writers: dict[str, Writer], topic: str, case: str
) -> None:
    field, at_limit, more = CASES[case]
    over = _over(field, at_limit, more)
    verdicts = {}
    for n, (way, write) in enumerate(sorted(writers.items())):
        verdicts[way] = (
            write(_message(archive, topic, n, **{field: at_limit})),
            write(_message(archive, topic, n, **{field: over})),
        )
    assert verdicts == {way: (True, False) for way in writers}
