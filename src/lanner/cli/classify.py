"""``lanner classifiers`` (the built-in classifiers and whether they run here) and
``lanner anomaly label|ranking`` (a user's own anomaly ranking, re-fitted from their labels;
see :mod:`lanner.classify.learning`)."""

from __future__ import annotations

import click

from lanner.cli.options import db_option
from lanner.cli.watchlists import open_for_cli, user_option


@click.command("classifiers")
def classifiers_command() -> None:
    """List the built-in classifiers: name, surveys, version, and whether LANNER_CLASSIFIERS=auto
    (the default) runs them here, or why not."""
    from lanner.classify.registry import NOT_IN_AUTO, auto_names, classifier_classes, ml_installed

    auto = set(auto_names())
    for name, cls in classifier_classes().items():
        surveys = ",".join(sorted(cls.surveys))  # type: ignore[attr-defined]
        if not ml_installed():
            here = "not installed: pip install 'lanner[ml]'"
        elif name in auto:
            here = "auto"
        else:
            here = f"not in auto: {NOT_IN_AUTO[name]}"
        click.echo(f"{name}\t{surveys}\t{cls.version}\t{here}")  # type: ignore[attr-defined]


@click.group("anomaly")
def anomaly_group() -> None:
    """Your own anomaly ranking, steered by your labels."""


def _user_id(store, username: str | None) -> int:  # type: ignore[no-untyped-def]
    from lanner.filter.users import ensure_local_user, user_by_name

    return user_by_name(store, username).user_id if username else ensure_local_user(store)


@anomaly_group.command("label")
@click.argument("object_id")
@click.argument("verdict", type=click.Choice(["interesting", "boring"]))
@user_option
@db_option
def label_command(object_id: str, verdict: str, username: str | None, db_url: str | None) -> None:
    """Label OBJECT_ID interesting or boring and re-fit your ranking (your topic
    anomaly_<user>); prints the new top ten."""
    from lanner.annotations import AnnotationError
    from lanner.classify.learning import label, ranking_topic

    with open_for_cli(db_url) as store:
        oid: int | str = int(object_id) if store.survey == "lsst" else object_id
        uid = _user_id(store, username)
        try:
            ranked = label(store, uid, oid, verdict)
        except AnnotationError as exc:
            raise click.ClickException(str(exc)) from exc
        from lanner.filter.users import get_user

        click.echo(f"ranking written to topic {ranking_topic(get_user(store, uid).username)}")
        for r in ranked[:10]:
            click.echo(f"{r.rank}\t{r.object_id}\t{r.score:.5f}\t(base {r.base_score:.5f})")


@anomaly_group.command("ranking")
@click.option("--limit", type=int, default=20, show_default=True)
@user_option
@db_option
def ranking_command(limit: int, username: str | None, db_url: str | None) -> None:
    """Re-fit and print your anomaly ranking (most anomalous first)."""
    from lanner.classify.learning import refit

    with open_for_cli(db_url) as store:
        for r in refit(store, _user_id(store, username))[:limit]:
            click.echo(f"{r.rank}\t{r.object_id}\t{r.score:.5f}\t(base {r.base_score:.5f})")
