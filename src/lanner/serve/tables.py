"""The tables of the web server's accounts: passwords and tiers, API tokens, sessions and
each user's recent requests.

Input: none. Output: :func:`api_tables`, declarations read by the schema registry (so
``lanner db init|upgrade`` creates them, as every other table). Side effects: none.

Secrets are stored only as hashes: passwords with Argon2id (:mod:`lanner.serve.passwords`),
API tokens and session ids (random, 160 bits or more) with SHA-256. ``api_calls`` holds the
last hour of each user's requests, so a limit holds across every server process.
"""

from __future__ import annotations

from lanner.schema.columns import Column, Table


def api_tables() -> list[Table]:
    """Declarations of the server's account tables."""
    user = Column("user_id", "bigint", "The user (users.user_id)", nullable=False)
    return [
        Table(
            "api_accounts",
            "What the web server knows of a user beyond ``users``: password and tier.",
            (
                user,
                Column("password_hash", "text", "Argon2id hash of the password (PHC string)"),
                Column("tier", "text", "Rate and row tier: anon, user or power"),
                Column(
                    "query_timeout",
                    "double",
                    "Time limit of the user's queries (empty: the tier's)",
                    "s",
                ),
            ),
            primary_key=("user_id",),
        ),
        Table(
            "api_tokens",
            "API tokens, shown once when made; only their SHA-256 is kept.",
            (
                Column("token_hash", "text", "SHA-256 of the token", nullable=False),
                user,
                Column("created", "timestamp", "When it was made (UTC)"),
                Column("label", "text", "What it was made by (auth-token, cli)"),
            ),
            primary_key=("token_hash",),
            indexes=(("user_id",),),
        ),
        Table(
            "api_sessions",
            "Web sessions: SHA-256 of the cookie's random id, until they expire.",
            (
                Column("session_hash", "text", "SHA-256 of the session id", nullable=False),
                user,
                Column("created", "timestamp", "When the user logged in (UTC)"),
                Column("expires", "double", "Unix time after which it is refused", "s"),
            ),
            primary_key=("session_hash",),
        ),
        Table(
            "api_calls",
            "Recent API requests of each user, for the hourly rate limits: one row per "
            "request counted, kept an hour, shared by every server process.",
            (
                Column("call_id", "bigint", "Request number", nullable=False, identity=True),
                user,
                Column("at", "double", "Unix time of the request", "s", nullable=False),
            ),
            primary_key=("call_id",),
            indexes=(("user_id", "at"),),
        ),
    ]
