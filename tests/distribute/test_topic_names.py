"""Topic naming rule: ASCII-safe, ≤ 249 characters, stable, collision-free."""

from __future__ import annotations

import hashlib
import re

import pytest

from lanner.distribute.topic_names import MAX_TOPIC_LENGTH, slugify, topic_name

KAFKA_LEGAL = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


def sha8(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def test_plain_name() -> None:
    assert topic_name(42, "Fast risers") == f"lanner_42_fast_risers_{sha8('Fast risers')}"


def test_accents_folded_and_symbols_collapsed() -> None:
    name = "Étoile filante -- (r < 19.5)!"
    assert topic_name(7, name) == f"lanner_7_etoile_filante_r_19_5_{sha8(name)}"


def test_non_latin_name_still_gives_a_legal_unique_topic() -> None:
    a, b = topic_name(1, "超新星"), topic_name(1, "新星")
    assert a.startswith("lanner_1_filter_") and b.startswith("lanner_1_filter_")
    assert a != b
    assert KAFKA_LEGAL.match(a)


def test_same_slug_different_names_do_not_collide() -> None:
    assert slugify("SN Ia") == slugify("sn-ia") == "sn_ia"
    assert topic_name(3, "SN Ia") != topic_name(3, "sn-ia")


def test_stable_and_owner_specific() -> None:
    assert topic_name(5, "tde candidates") == topic_name(5, "tde candidates")
    assert topic_name(5, "tde candidates") != topic_name(6, "tde candidates")


def test_long_names_are_cut_to_kafka_limit_and_stay_unique() -> None:
    long_a = "x" * 1000 + "a"
    long_b = "x" * 1000 + "b"
    ta, tb = topic_name(123456789, long_a), topic_name(123456789, long_b)
    assert len(ta) == MAX_TOPIC_LENGTH and len(tb) == MAX_TOPIC_LENGTH
    assert ta != tb
    assert KAFKA_LEGAL.match(ta)


@pytest.mark.parametrize(
    ("owner", "name", "prefix"),
    [(-1, "f", "lanner"), (1, "   ", "lanner"), (1, "f", "Bad.Prefix"), (1, "f", "")],
)
def test_invalid_inputs_are_rejected(owner: int, name: str, prefix: str) -> None:
    with pytest.raises(ValueError):
        topic_name(owner, name, prefix=prefix)
