"""The settings object is the one place a setting is declared, read and documented.

Fails on a setting that is undocumented (not in the operations guide's table), unread (no
code reads the field), or read from the environment behind the object's back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lanner.settings import SETTINGS, Settings, SettingsError, settings_table

SRC = Path(__file__).resolve().parents[1] / "src" / "lanner"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"

#: Variables of the tools around Lanner, not settings of a running broker.
TOOL_VARIABLES = {
    "LANNER_SHARED",  # where `lanner bench` finds the shared alerts in a checkout
    "LANNER_TANSU_BIN",  # the test broker's binary
    "LANNER_CATALOGS",  # the sky-context catalogue library of `lanner context`
    "LANNER_TEST_PG",  # the test database
}


def test_every_setting_has_a_variable_and_help() -> None:
    envs = [info.env for info in SETTINGS.values()]
    assert len(set(envs)) == len(envs)
    for name, info in SETTINGS.items():
        assert info.env.startswith("LANNER_"), name
        assert info.help.endswith("."), name


def test_the_operations_guide_lists_every_setting() -> None:
    assert settings_table() in DOCS.read_text(), (
        "docs/operations.md is out of date: paste lanner.settings.settings_table() into it"
    )


def test_every_setting_is_read_by_the_code() -> None:
    read: set[str] = set()
    for path in SRC.rglob("*.py"):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                read.add(node.attr)
            elif isinstance(node, ast.keyword) and node.arg:
                read.add(node.arg)  # with_overrides(batch_size=...)
    # Read through Settings' own methods: kafka_config() and dead_letter_dir.
    via_methods = {
        "kafka_security_protocol",
        "kafka_sasl_mechanism",
        "kafka_sasl_username",
        "kafka_sasl_password",
        "kafka_ssl_ca",
        "home",
    }
    assert "kafka_config" in read and "dead_letter_dir" in read
    unread = sorted(set(SETTINGS) - read - via_methods)
    assert not unread, f"settings no code reads: {unread}"


def test_no_setting_is_read_from_the_environment_elsewhere() -> None:
    pattern = re.compile(r"LANNER_[A-Z_]*[A-Z](?![A-Z_]*\*)")  # not LANNER_X_* families
    declared = {info.env for info in SETTINGS.values()}
    for path in SRC.rglob("*.py"):
        if path.name == "settings.py":
            continue
        for name in pattern.findall(path.read_text()):
            name = name.removesuffix("_FILE")
            assert name in declared | TOOL_VARIABLES, f"{path.name} uses undeclared {name}"


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANNER_BATCH_SIZE", "7")
    monkeypatch.setenv("LANNER_BATCH_SECONDS", "2.5")
    monkeypatch.setenv("LANNER_DB", "sqlite:///elsewhere.db")
    settings = Settings.for_db(None)
    assert (settings.batch_size, settings.batch_seconds) == (7, 2.5)
    assert settings.db_url == "sqlite:///elsewhere.db"
    assert Settings.for_db("sqlite:///given.db").db_url == "sqlite:///given.db"


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANNER_BATCH_SIZE", "many")
    with pytest.raises(SettingsError, match="LANNER_BATCH_SIZE='many'"):
        Settings()


def test_secrets_from_a_file_never_from_an_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "sasl"
    secret.write_text("s3cret\n")
    monkeypatch.delenv("LANNER_KAFKA_SASL_PASSWORD", raising=False)
    monkeypatch.setenv("LANNER_KAFKA_SASL_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("LANNER_KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    settings = Settings()
    shared = settings.kafka_config()
    assert {k: shared[k] for k in ("security.protocol", "sasl.password")} == {
        "security.protocol": "sasl_ssl",
        "sasl.password": "s3cret",
    }
    assert "sasl.username" not in shared
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="secrets"):
        settings.with_overrides(kafka_sasl_password="typed")
    monkeypatch.setenv("LANNER_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "missing"))
    monkeypatch.delenv("LANNER_KAFKA_SECURITY_PROTOCOL")
    with pytest.raises(SettingsError, match="LANNER_KAFKA_SASL_PASSWORD_FILE"):
        Settings()


def test_kafka_security_reaches_the_match_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    from confluent_kafka import KafkaException

    from lanner.distribute.channels import build_channels

    monkeypatch.setenv("LANNER_KAFKA", "127.0.0.1:9")
    monkeypatch.setenv("LANNER_KAFKA_SECURITY_PROTOCOL", "carrier-pigeon")
    with pytest.raises(KafkaException, match=r"security\.protocol"):
        build_channels(Settings())
