"""The web site's own tables: the marshall's per-user state of objects.

Input: a survey. Output: :func:`web_tables`, declarations read by the schema registry (so
``lanner db init|upgrade`` creates them, as every other table). Side effects: none.

``marshall_marks`` holds one row per (user, object): favourite and veto flags, the latest
comment and when it changed; ``marshall_comments`` keeps every comment, so a scan's notes
have their history.
"""

from __future__ import annotations

from lanner.batch import Survey
from lanner.schema.columns import Column, Table
from lanner.schema.tables import object_id_column


def web_tables(survey: Survey) -> list[Table]:
    """Declarations of the marshall's tables."""
    oid = object_id_column(survey)
    user = Column("user_id", "bigint", "The user (users.user_id)", nullable=False)
    return [
        Table(
            "marshall_marks",
            "What each user decided about an object while scanning: favourite, veto, note.",
            (
                user,
                oid,
                Column("favourite", "bool", "Marked as a favourite"),
                Column("veto", "bool", "Vetoed: not interesting"),
                Column("comment", "text", "The latest comment"),
                Column("filter_id", "bigint", "The filter scanned when last marked"),
                Column("updated", "timestamp", "When it last changed (UTC)"),
            ),
            primary_key=("user_id", oid.name),
        ),
        Table(
            "marshall_comments",
            "Every comment users wrote on objects in the marshall.",
            (
                Column("comment_id", "bigint", "Comment id", nullable=False, identity=True),
                user,
                oid,
                Column("comment", "text", "What was written", nullable=False),
                Column("created", "timestamp", "When (UTC)"),
            ),
            primary_key=("comment_id",),
            indexes=(("user_id", oid.name),),
        ),
    ]
