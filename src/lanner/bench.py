"""``lanner bench``: throughput of every stage on real alerts, on every core.

Replays alert files (default: the shared ZTF set; ``--rubin``: the shared on-sky Rubin
``lsst.v10_0`` alerts) through the whole pipeline into a fresh SQLite database in a temporary
folder, with a set of realistic active filters, and reports alerts per second and megabytes
per second (of packets as received) for decoding alone (the ceiling: the fastest of
:data:`DECODE_PASSES` passes just before the timed run and as many just after), for each
stage and each enricher, and end to end, each also as a ratio to the decode ceiling of the
same run, plus the peak resident memory. Packets are read into memory first, so disk reads
are not counted; what a broker does once at start-up (loading catalogues, binding the
database to its survey, compiling the active filters) is done before the clock starts.
Measure on an idle machine. ``lanner bench`` runs, as ``lanner ingest`` does, one worker
process per core that decodes and enriches, feeding this one, which stores (``workers``);
end to end is then the rate on every core against the ceiling of one, and the stage and
enricher figures are per process, summed over the processes. The batch-size scaling
of the enrichers is :mod:`lanner.bench_scaling`, the Kafka visit :mod:`lanner.bench_visit`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from lanner.batch import Survey
from lanner.classify.registry import selected as selected_classifiers
from lanner.filter.saved import add_filter
from lanner.ingest import assemble, iter_packets
from lanner.ingest.deadletter import FolderDeadLetters
from lanner.ingest.decode import DecodeError, decode_packet
from lanner.ingest.packets import RawPacket
from lanner.parallel import run_parallel, worker_pool
from lanner.pipeline import Pipeline, chunked, prepare
from lanner.settings import Settings
from lanner.store import open_store

#: Filters of the shapes scientists write, per survey, active during the benchmark.
BENCH_FILTERS: dict[str, list[str]] = {
    "ztf": [
        "SELECT objectId, gmag, rmag FROM objects WHERE ncand >= 3 AND gmag < 19",
        "SELECT objectId FROM objects WHERE sgscore1 < 0.5 AND distpsnr1 < 2 AND ssnamenr IS NULL",
        "SELECT objectId, jdmax - jdmin AS age FROM objects WHERE jdmax - jdmin < 10",
    ],
    "lsst": [
        "SELECT diaObjectId, latest_psfFlux FROM objects WHERE latest_psfFlux > 10000",
        "SELECT diaObjectId FROM objects WHERE nDiaSources >= 3 "
        "AND lastDiaSourceMjdTai - firstDiaSourceMjdTai < 20",
    ],
}


def shared_dir() -> Path:
    """The shared data folder (``$LANNER_SHARED`` or ``../shared`` or ``./shared``)."""
    env = os.environ.get("LANNER_SHARED")
    for base in ([Path(env)] if env else []) + [
        Path.cwd().parent / "shared",
        Path.cwd() / "shared",
    ]:
        if (base / "data" / "alerts").is_dir():
            return base
    raise FileNotFoundError("the shared alerts were not found: pass PATHS or set LANNER_SHARED")


def default_alerts() -> Path:
    """The shared ZTF alerts in a checkout, else the ZTF sample shipped inside the package
    (after ``pip install .``)."""
    try:
        return shared_dir() / "data" / "alerts" / "ztf"
    except FileNotFoundError:
        return Path(str(resources.files("lanner") / "data" / "alerts" / "ztf"))


#: Passes of decoding alone; the fastest is the ceiling.
DECODE_PASSES = 3


class BenchError(Exception):
    """The benchmark cannot run as asked."""


@dataclass
class BenchResult:
    """Throughput figures (alerts per second unless stated)."""

    alerts: int
    dead_letters: int
    batch_size: int
    #: The decode ceiling: the faster of the passes taken just before and just after the
    #: timed run (on a shared machine a core's speed changes within a minute).
    decode_only: float
    #: The ceiling of the passes before the run, and of those after it.
    decode_only_before: float = 0.0
    decode_only_after: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    enrichers: dict[str, float] = field(default_factory=dict)
    #: Each built-in classifier (part of the "classify" stage; lanner[ml] installed).
    classifiers: dict[str, float] = field(default_factory=dict)
    end_to_end: float = 0.0
    #: End to end less the "classify" stage's time (the classifiers run in the storing
    #: process, so their time adds to the wall time): the pipeline's own throughput.
    end_to_end_without_classifiers: float = 0.0
    #: Peak resident memory of this process (which reads, stores and filters) [MB].
    peak_memory_mb: float = 0.0
    #: Peak resident memory of the largest worker process (0 with one process) [MB].
    peak_worker_memory_mb: float = 0.0
    #: Size of the packets as received [MB]; the same figures in MB/s and as ratios to
    #: decode_only, keyed ``decode_only``, ``stage:NAME``, ``enricher:NAME``, ``end_to_end``.
    input_mb: float = 0.0
    mb_per_s: dict[str, float] = field(default_factory=dict)
    vs_decode: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    #: Processes that decoded and enriched (1: this one did everything).
    workers: int = 1
    #: Whether the next batch was prepared while this one was stored (one process).
    overlap: bool = True

    def fill_derived(self) -> None:
        """``mb_per_s`` and ``vs_decode`` from the alerts/s figures."""
        rates = {"decode_only": self.decode_only}
        rates |= {f"stage:{k}": v for k, v in self.stages.items()}
        rates |= {f"enricher:{k}": v for k, v in self.enrichers.items()}
        rates |= {f"classifier:{k}": v for k, v in self.classifiers.items()}
        rates["end_to_end"] = self.end_to_end
        rates["end_to_end_without_classifiers"] = self.end_to_end_without_classifiers
        mb_per_alert = self.input_mb / self.alerts if self.alerts else 0.0
        self.mb_per_s = {k: round(v * mb_per_alert, 3) for k, v in rates.items()}
        self.vs_decode = {
            k: round(v / self.decode_only, 3) if self.decode_only else 0.0 for k, v in rates.items()
        }

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def run_bench(
    paths: list[Path],
    batch_size: int = 1000,
    survey: Survey | None = None,
    stage_benches: bool = True,
    db_url: str | None = None,
    workers: int = 1,
    overlap: bool = True,
    alerts: int | None = None,
) -> BenchResult:
    """Run the benchmark; ``stage_benches`` adds the stand-alone filter and context figures.

    ``db_url``: an empty database to write to (e.g. PostgreSQL) instead of a temporary
    SQLite file. ``workers`` > 1: batches are decoded and enriched in that many worker
    processes (:mod:`lanner.parallel`, started and warmed up before the clock starts) and stored
    in this one, as ``lanner ingest --workers N`` does; the stage and enricher figures are
    then summed over the processes, the decode ceiling stays that of one core.
    ``overlap``: a batch is decoded and enriched in a background thread while the one before
    is stored and filtered (as the commands do; ``False``: one stage after the other).
    ``alerts``: the alerts of ``paths`` repeated to that many, each with fresh ids (distinct
    objects, in the survey's own format: :func:`lanner.bench_alerts.fresh_id_packets`).
    """
    packets = list(iter_packets(paths))
    if alerts is not None:
        from lanner.bench_alerts import fresh_id_packets

        packets = fresh_id_packets(packets, alerts)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(db_url or f"sqlite:///{Path(tmp) / 'bench.db'}", survey)
        if store.survey and store.counts().get("alerts", 0):
            store.close()
            raise BenchError(
                f"{db_url} already holds alerts: the benchmark needs an empty database"
            )
        pipeline = Pipeline(
            store,
            FolderDeadLetters(Path(tmp) / "deadletter"),
            classifiers=selected_classifiers(Settings().classifiers, survey),
        )
        # A broker loads catalogues, dust maps and light-curve tools, binds its database to
        # its survey and compiles its active filters once, at start-up: so the timed run
        # starts with all of that done (the first packet decoded and enriched, the filters
        # run once on it, nothing stored).
        warm = prepare(packets[:1], survey, pipeline.enrichers)
        if store.survey is None and len(warm.batch):
            store.ensure_schema(warm.batch.survey)
        if store.survey:
            for i, sql in enumerate(BENCH_FILTERS[store.survey]):
                add_filter(store, f"bench{i}", sql, active=True)
            if len(warm.batch):
                pipeline.filters.run(warm.batch)
        batches = list(chunked(packets, batch_size))
        # The ceiling, just before the run it is compared with (same process state, same
        # period of the machine's load): the best of a few passes, as other jobs can only
        # slow a pass down.
        n_decoded, decode_seconds = _decode_only(packets)
        with contextlib.ExitStack() as stack:
            pool = (
                stack.enter_context(worker_pool(store.survey, workers, warm=packets[:1]))
                if workers > 1
                else None
            )
            start = time.perf_counter()
            summary = run_parallel(pipeline, batches, workers, pool=pool, overlap=overlap)
            wall = time.perf_counter() - start
        # And again just after: the ceiling is the faster, so that a slow moment of the
        # machine during the first passes cannot flatter the ratios.
        _, decode_seconds_after = _decode_only(packets)
        store.close()
    input_mb = sum(len(p.data) for p in packets) / 1e6
    alerts = summary.alerts
    extra: dict[str, object] = {}
    if stage_benches:
        extra = _stage_benches(packets, survey)
    result = BenchResult(
        alerts=alerts,
        dead_letters=summary.dead_letters,
        batch_size=batch_size,
        decode_only=_rate(n_decoded, min(decode_seconds, decode_seconds_after)),
        decode_only_before=_rate(n_decoded, decode_seconds),
        decode_only_after=_rate(n_decoded, decode_seconds_after),
        stages={k: _rate(alerts, s) for k, s in summary.seconds.items()},
        enrichers={k: _rate(alerts, s) for k, s in summary.enricher_seconds.items()},
        classifiers={k: _rate(alerts, s) for k, s in summary.classifier_seconds.items()},
        end_to_end=_rate(alerts, wall),
        end_to_end_without_classifiers=_rate(alerts, wall - summary.seconds.get("classify", 0.0)),
        peak_memory_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # The workers have ended (their pool was left above): the largest of them.
        peak_worker_memory_mb=(
            round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
            if workers > 1
            else 0.0
        ),
        input_mb=round(input_mb, 3),
        extra=extra,
        workers=workers,
        overlap=overlap,
    )
    result.fill_derived()
    return result


def _decode_only(packets: list[RawPacket], passes: int = DECODE_PASSES) -> tuple[int, float]:
    """Alerts decoded and the fastest of ``passes`` passes of decoding alone [s]."""
    best = float("inf")
    n_decoded = 0
    for _ in range(passes):
        start = time.perf_counter()
        n_decoded = 0
        for packet in packets:
            # Undecodable packets are counted as dead letters by the pipeline run.
            with contextlib.suppress(DecodeError):
                n_decoded += len(decode_packet(packet))
        best = min(best, time.perf_counter() - start)
    return n_decoded, best


def _stage_benches(packets: list[RawPacket], survey: Survey | None) -> dict[str, object]:
    """Figures of stages measured on their own: 100 filters on a 10,000-object batch (the
    issue's shape, on the filter benchmark's seeded batch) and the sky context on these
    alerts, warm and cold."""
    from lanner.enrich.context.bench import bench_context
    from lanner.filter.bench import bench_filters
    from lanner.sky_areas.bench import bench_for_cli

    batch = assemble(packets[:5000], survey).batch
    context = bench_context(batch=batch, repeats=3) if len(batch) else None
    return {
        "filters_100_on_10000": bench_filters(n_filters=100, n_rows=10_000, repeat=3),
        "context": None if context is None else asdict(context),
        "watchlists": bench_for_cli(),
    }
