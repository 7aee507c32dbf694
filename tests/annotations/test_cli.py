"""The annotation commands on SQLite and PostgreSQL: annotators, annotate (one item or a
JSON-lines file, validated whole), the history, and who may do what."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lanner.filter.users import get_user
from tests.annotations.conftest import Archive, Cli


def _name(a: Archive, user_id: int) -> str:
    return get_user(a.store, user_id).username


def test_annotator_lifecycle_and_permissions(archive: Archive, cli: Cli, topic: str) -> None:
    a = archive
    alice, bob, carol = (_name(a, u) for u in (a.alice, a.bob, a.carol))
    out = cli("annotator", "add", topic, "--private", "--description", "NN", "--user", alice)
    assert "private" in out and f"annotator:{topic}" in out
    assert topic in cli("annotator", "list", "--user", alice)
    assert topic not in cli("annotator", "list", "--user", bob)
    assert "does not exist" in cli("annotator", "show", topic, "--user", bob, ok=False)
    oid = str(a.object_ids[40])
    refused = cli("annotate", topic, oid, "SN", "--user", bob, ok=False)
    assert "does not exist" in refused
    assert "does not exist" in cli("annotator", "authorise", topic, bob, "--user", bob, ok=False)
    cli("annotator", "authorise", topic, bob, "--user", alice)
    assert "only the owner" in cli("annotator", "authorise", topic, carol, "--user", bob, ok=False)
    out = cli(
        "annotate",
        topic,
        oid,
        "SLSN",
        "--classdict",
        '{"SLSN-I": 0.8}',
        "--version",
        "2.1",
        "--explanation",
        "dwarf host",
        "--url",
        "https://example.org/spectrum",
        "--user",
        bob,
    )
    assert "1 annotation(s) written" in out
    shown = json.loads(cli("annotator", "show", topic, "--user", bob, "--format", "json"))[0]
    assert shown["owner"] == alice and shown["writers"] == bob and shown["annotations"] == 1
    history = json.loads(
        cli("annotations", "history", topic, oid, "--user", alice, "--format", "json")
    )
    assert [(h["classification"], h["version"]) for h in history] == [("SLSN", "2.1")]
    assert json.loads(history[0]["classdict"]) == {"SLSN-I": 0.8}
    cli("annotator", "revoke", topic, bob, "--user", alice)
    assert "does not exist" in cli("annotate", topic, oid, "SN", "--user", bob, ok=False)
    cli("annotator", "deactivate", topic, "--user", alice)
    assert "not active" in cli("annotate", topic, oid, "SN", "--user", alice, ok=False)
    assert "does not exist" in cli("annotator", "delete", topic, "--yes", "--user", carol, ok=False)
    cli("annotator", "publish", topic, "--user", alice)
    assert "only the owner" in cli("annotator", "delete", topic, "--yes", "--user", carol, ok=False)
    cli("annotator", "delete", topic, "--yes", "--user", alice)
    assert topic not in cli("annotator", "list", "--user", alice)


def test_annotate_file_reports_every_bad_line(
    archive: Archive, cli: Cli, topic: str, tmp_path: Path
) -> None:
    """Every bad line of a file is reported with its number and what is wrong, whatever is
    wrong with it (not JSON, not an annotation, another topic, a rule, an unknown object);
    nothing is written and the command fails; the corrected file is written whole."""
    a = archive
    alice = _name(a, a.alice)
    cli("annotator", "add", topic, "--user", alice)
    good = [
        json.dumps({"diaObjectId": oid, "classification": "SN", "classdict": {"p": n / 10}})
        for n, oid in enumerate(a.object_ids[41:46])
    ]
    bad = {
        3: "{not json",
        5: json.dumps(
            {"diaObjectId": a.object_ids[46], "classification": "SN", "version": "v" * 20}
        ),
        6: json.dumps({"diaObjectId": 42, "classification": "SN"}),
        8: json.dumps({"diaObjectId": a.object_ids[47], "classification": "SN", "topic": "other"}),
        9: json.dumps({"classification": "SN"}),
        11: json.dumps({"diaObjectId": a.object_ids[48], "classification": "", "url": "ftp://x"}),
    }
    lines, rest = [], iter(good)
    for n in range(1, 12):
        lines.append(bad[n] if n in bad else "" if n in (4, 10) else next(rest))
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = cli("annotate", topic, "--file", str(path), "--user", alice, ok=False)
    reported = sorted({int(m) for m in re.findall(r"mixed\.jsonl: line (\d+): ", out)})
    assert reported == sorted(bad)
    assert "line 3: not JSON" in out
    assert "line 5: version is 20 characters long: at most 16" in out
    assert "line 6: no object 42 in this database" in out
    assert "line 8: the message is for annotator 'other'" in out
    assert "line 9: no object id" in out
    assert "line 11: classification is empty" in out and "line 11: url 'ftp://x'" in out
    assert "6 bad line(s)" in out and "nothing was written" in out
    assert json.loads(cli("annotator", "show", topic, "--format", "json"))[0]["annotations"] == 0

    path.write_text("\n".join(good) + "\n\n")
    assert "5 annotation(s) written" in cli("annotate", topic, "--file", str(path), "--user", alice)
    assert json.loads(cli("annotator", "show", topic, "--format", "json"))[0]["annotations"] == 5


def test_usage_errors(cli: Cli, topic: str) -> None:
    assert "give OBJECT and CLASSIFICATION" in cli("annotate", topic, ok=False)
    assert "not JSON" in cli("annotate", topic, "1", "SN", "--classdict", "{bad", ok=False)
