"""The active-learning loop: labels move the user's own anomaly ranking their way."""

from __future__ import annotations

import json

from lanner.classify.learning import label, labels_topic, ranking_topic, refit
from lanner.filter.users import create_user
from lanner.store import open_store


def test_labels_move_the_ranking_in_the_labelled_direction(classified_url: str) -> None:
    store = open_store(classified_url, create=False)
    try:
        alice, _ = create_user(store, "alice_ml")
        before = refit(store, alice.user_id)
        assert len(before) > 100
        rank = {r.object_id: r.rank for r in before}
        # Without labels the ranking is the forests' score, most anomalous first.
        assert [r.base_score for r in before] == sorted(r.base_score for r in before)
        middle = before[len(before) // 2].object_id
        top = before[0].object_id
        after = label(store, alice.user_id, middle, "interesting")
        new_rank = {r.object_id: r.rank for r in after}
        assert new_rank[middle] < rank[middle]
        after = label(store, alice.user_id, top, "boring")
        new_rank2 = {r.object_id: r.rank for r in after}
        assert new_rank2[top] > rank[top]
        assert new_rank2[middle] < rank[middle]
        # Stored as the user's own private topics, readable by their filters.
        rows = store.con.execute(
            'SELECT topic, classdict FROM annotations WHERE "objectId" = ? AND topic LIKE ?',
            (middle, "anomaly_%alice_ml"),
        ).fetchall()
        store.con.commit()
        topics = {r[0]: r[1] for r in rows}
        assert set(topics) == {labels_topic("alice_ml"), ranking_topic("alice_ml")}
        assert json.loads(topics[ranking_topic("alice_ml")])["rank"] == new_rank2[middle]
        # Another user's ranking is not moved by alice's labels.
        bob, _ = create_user(store, "bob_ml")
        assert {r.object_id: r.rank for r in refit(store, bob.user_id)} == rank
    finally:
        store.close()
