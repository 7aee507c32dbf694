"""Other brokers' classifications from Kafka and from files, into annotations.

Input: Kafka messages of a Fink or ALeRCE topic, or a Fink Data Transfer file. Output: a
:class:`~lanner.brokers.write.BrokerReport`. Side effects: annotations written
(:mod:`lanner.brokers.write`); Kafka offsets committed after each batch is written, so a
crash re-reads (and the latest-wins write absorbs) a batch rather than losing it.

Decoding follows each broker's client:

* Fink (fink-client ``AlertConsumer``): the value is schemaless Avro whose writer schema
  travels as JSON text in the message key; without one, a local schema file (``--schema``)
  is used. Avro containers and JSON values are read too.
* ALeRCE: the value is an Avro container (the schema inside, as ALeRCE's consumers read
  it), schemaless Avro with ``--schema``, or JSON.

A message that cannot be decoded is counted by reason (and under the source's name in
``lanner_annotations_rejected_total``) and logged with its offset; the others go on.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastavro

from lanner.annotations.counts import annotation_counts
from lanner.brokers.alerce import alerce_annotations
from lanner.brokers.fink import fink_annotations, fink_topics, read_fink_file, records_table
from lanner.brokers.write import BrokerReport, write_broker_annotations
from lanner.store import Store

if TYPE_CHECKING:
    from lanner.pipeline import DeliveryHook

log = logging.getLogger(__name__)

#: Messages read per batch at most.
BATCH = 500


class DecodeError(ValueError):
    """A message that is not a classification this reader knows."""


def load_schema(path: Path | None) -> Any:
    """A parsed Avro schema from an ``.avsc`` file, or None."""
    if path is None:
        return None
    return fastavro.parse_schema(json.loads(path.read_text()))


def decode(value: bytes | None, key: bytes | None, schema: Any) -> dict[str, Any]:
    """One message's record (see the module docstring for the formats tried)."""
    if not value:
        raise DecodeError("empty message")
    if value.startswith(b"Obj\x01"):
        try:
            records = list(fastavro.reader(io.BytesIO(value)))
        except (ValueError, EOFError, TypeError) as exc:
            raise DecodeError(f"bad Avro container: {exc}") from exc
        if len(records) != 1 or not isinstance(records[0], dict):
            raise DecodeError(f"an Avro container of {len(records)} records, not one")
        return records[0]
    writer = _key_schema(key) or schema
    if writer is not None:
        try:
            record = fastavro.schemaless_reader(io.BytesIO(value), writer)
        except (ValueError, EOFError, TypeError, IndexError) as exc:
            raise DecodeError(f"not Avro of the given schema: {exc}") from exc
        if not isinstance(record, dict):
            raise DecodeError("the Avro value is not a record")
        return record
    if value.lstrip()[:1] == b"{":
        try:
            record = json.loads(value)
        except ValueError as exc:
            raise DecodeError(f"bad JSON: {exc}") from exc
        return dict(record)
    raise DecodeError("schemaless Avro without a schema: give --schema FILE (an .avsc)")


def _key_schema(key: bytes | None) -> Any:
    """The writer schema a Fink message carries in its key (JSON text), if any."""
    if not key or key.lstrip()[:1] != b"{":
        return None
    try:
        return fastavro.parse_schema(json.loads(key))
    except (ValueError, TypeError, KeyError, fastavro.schema.SchemaParseException):
        return None


def annotate_records(
    store: Store,
    source: str,
    records: Sequence[Mapping[str, Any]],
    delivery: DeliveryHook | None = None,
) -> BrokerReport:
    """Turn decoded records of ``source`` into annotations and write them."""
    if source == "fink":
        survey = store.survey or "ztf"
        per_topic = fink_annotations(records_table([dict(r) for r in records]), survey)
        return write_broker_annotations(store, "fink", per_topic, fink_topics(), delivery)
    per_topic, rejected = alerce_annotations(records)
    report = write_broker_annotations(store, "alerce", per_topic, delivery=delivery)
    report.rejected.update(rejected)
    return report


def import_file(store: Store, path: Path, delivery: DeliveryHook | None = None) -> BrokerReport:
    """Annotations from a Fink Data Transfer file (Parquet or Avro container)."""
    table = read_fink_file(path)
    per_topic = fink_annotations(table, store.survey or "lsst")
    return write_broker_annotations(store, "fink", per_topic, fink_topics(), delivery)


def consume(
    store: Store,
    kafka_config: dict[str, Any],
    topic: str,
    source: str,
    *,
    schema: Any = None,
    max_messages: int | None = None,
    idle_seconds: float | None = None,
    delivery: DeliveryHook | None = None,
) -> tuple[BrokerReport, int]:
    """Read ``topic`` until ``max_messages`` are read or nothing came for
    ``idle_seconds`` (None: for ever); returns the report and the messages read."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {"auto.offset.reset": "earliest", **kafka_config, "enable.auto.commit": False}
    )
    consumer.subscribe([topic])
    report = BrokerReport()
    read = 0
    last = time.monotonic()
    try:
        while max_messages is None or read < max_messages:
            want = BATCH if max_messages is None else min(BATCH, max_messages - read)
            messages = consumer.consume(num_messages=want, timeout=1.0)
            if not messages:
                if idle_seconds is not None and time.monotonic() - last > idle_seconds:
                    break
                continue
            last = time.monotonic()
            records: list[dict[str, Any]] = []
            bad: Counter[str] = Counter()
            for m in messages:
                if m.error() is not None:
                    bad["Kafka error"] += 1
                    log.warning("Kafka error on %s: %s", topic, m.error())
                    continue
                read += 1
                try:
                    records.append(decode(m.value(), m.key(), schema))
                except DecodeError as exc:
                    bad[str(exc).split(":")[0]] += 1
                    log.warning(
                        "%s message at %s[%s]@%s set aside: %s",
                        source,
                        m.topic(),
                        m.partition(),
                        m.offset(),
                        exc,
                    )
            batch = (
                annotate_records(store, source, records, delivery) if records else BrokerReport()
            )
            batch.rejected.update(bad)
            if bad:
                annotation_counts.rejected(source, sum(bad.values()))
            report.add(batch)
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return report, read
