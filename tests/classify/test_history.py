"""The annotation history answers "the score rose above 0.8" (docs/classifiers.md's SQL)."""

from __future__ import annotations

from lanner.annotations import Annotation, write_annotations
from lanner.filter.archive import run_on_archive
from lanner.filter.users import ensure_local_user
from lanner.settings import Settings
from lanner.store import open_store

ROSE_SINCE_PREVIOUS = """
SELECT a.objectId, JSON_EXTRACT(a.classdict, '$.p_snia') AS p_now
FROM annotations AS a
WHERE a.topic = 'snn_snia_vs_nonia'
  AND JSON_EXTRACT(a.classdict, '$.p_snia') > 0.8
  AND NOT EXISTS (
    SELECT 1 FROM annotation_history AS h
    WHERE h.objectId = a.objectId AND h.topic = a.topic AND h.annotationID < a.annotationID
      AND JSON_EXTRACT(h.classdict, '$.p_snia') > 0.8)
  AND EXISTS (
    SELECT 1 FROM annotation_history AS h
    WHERE h.objectId = a.objectId AND h.topic = a.topic AND h.annotationID < a.annotationID)
"""


def test_score_rose_above_threshold(classified_url: str) -> None:
    settings = Settings(db_url=classified_url)
    store = open_store(classified_url, create=False)
    try:
        low = store.con.execute(
            "SELECT \"objectId\" FROM annotations WHERE topic = 'snn_snia_vs_nonia' "
            "AND CAST(json_extract(classdict, '$.p_snia') AS REAL) < 0.5 ORDER BY 1 LIMIT 2"
        ).fetchall()
        store.con.commit()
        rising, staying = low[0][0], low[1][0]
        before = {r[0] for r in run_on_archive(settings, ROSE_SINCE_PREVIOUS).rows}
        owner = ensure_local_user(store)
        write_annotations(
            store,
            "snn_snia_vs_nonia",
            [
                Annotation(rising, "SN Ia", version="test", classdict={"p_snia": 0.93}),
                Annotation(staying, "non-Ia", version="test", classdict={"p_snia": 0.4}),
            ],
            user_id=owner,
        )
        after = {r[0] for r in run_on_archive(settings, ROSE_SINCE_PREVIOUS).rows}
        assert after - before == {rising}
        assert staying not in after
    finally:
        store.close()
