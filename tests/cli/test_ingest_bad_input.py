"""``lanner ingest`` on bad input: a message and dead letters, never a traceback, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanner.cli import build_cli
from lanner.store import open_store

TARBALL = "ztf/AmpelProject__Ampel-core/alerts/ztf_public_20180819_mod1000.tar.gz"


def _ingest(tmp_path: Path, *paths: Path) -> str:
    result = CliRunner().invoke(build_cli(), ["ingest", *map(str, paths)])
    assert result.exception is None, result.output
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _letters(home: Path) -> list[tuple[dict[str, object], bytes]]:
    notes = sorted((home / "deadletter").glob("*.json"))
    return [(json.loads(n.read_text()), n.with_suffix(".bin").read_bytes()) for n in notes]


def _stored_alerts(home: Path) -> int:
    store = open_store(f"sqlite:///{home / 'lanner.db'}")
    try:
        return store.counts().get("alerts", 0) if store.survey else 0
    finally:
        store.close()


def test_a_text_file_is_a_dead_letter_with_its_reason(
    tmp_path: Path, lanner_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("hi\n")
    out = _ingest(tmp_path, Path("a.txt"))
    assert "alerts ingested : 0" in out
    assert "rejected        : 1" in out
    assert "1 × unrecognised format: not an Avro container" in out
    ((note, data),) = _letters(lanner_home)
    assert (note["origin"], data) == ("a.txt", b"hi\n")
    assert _stored_alerts(lanner_home) == 0


def test_a_truncated_tarball_keeps_what_it_could_read(
    tmp_path: Path, lanner_home: Path, alerts_dir: Path
) -> None:
    whole = (alerts_dir / TARBALL).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 3])
    good = sorted((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))[:2]
    out = _ingest(tmp_path, cut, *good)
    ingested = int(out.split("alerts ingested : ")[1].split()[0])
    ((note, data),) = _letters(lanner_home)
    assert str(note["reason"]).startswith(
        f"truncated or corrupt archive, not read after {ingested - len(good)} member(s): EOFError"
    )
    assert ingested - len(good) > 0  # the members before the cut are stored
    assert note["origin"] == str(cut) and data == cut.read_bytes()  # the file set aside
    assert "rejected        : 1" in out
    # The good files named after the tarball went in too (counted in ``ingested``).
    assert _stored_alerts(lanner_home) == ingested


def test_files_not_read_are_listed_in_the_summary(
    tmp_path: Path, lanner_home: Path, alerts_dir: Path
) -> None:
    night = tmp_path / "night"
    night.mkdir()
    good = next((alerts_dir / "ztf" / "boom-astro__boom" / "data").rglob("*.avro"))
    (night / "a.avro").write_bytes(good.read_bytes())
    (night / "notes.txt").write_text("seeing 0.8")
    out = _ingest(tmp_path, night)
    assert "alerts ingested : 1" in out
    assert "files not read  : 1" in out
    assert f"{night / 'notes.txt'}: unknown type" in out
